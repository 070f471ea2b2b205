package osm

import (
	"math"
	"strconv"
	"strings"
)

// Base layer names. With importers.Options.Layer set to P, a feature of
// base layer L goes to layer P + "_" + L (see LayerName).
const (
	// LayerBuildings holds closed ways and multipolygons tagged building=*
	// (except building=no), as Polygon or MultiPolygon.
	LayerBuildings = "buildings"
	// LayerBuildingParts holds building:part=* areas (Simple 3D Buildings
	// parts). They are kept apart from LayerBuildings because a part lies
	// inside its building's outline: summing both would count volumes twice.
	LayerBuildingParts = "building_parts"
	// LayerRoads holds highway=* ways as LineStrings (closed highway ways
	// tagged area=yes go to LayerAreas).
	LayerRoads = "roads"
	// LayerRailways holds railway lines (rail, subway, tram, light_rail,
	// monorail, narrow_gauge, funicular, preserved) as LineStrings.
	LayerRailways = "railways"
	// LayerWater holds water areas (natural=water, waterway=riverbank,
	// waterway=dock, landuse=reservoir, landuse=basin) as polygons and
	// waterway=river, stream, canal, drain, ditch as LineStrings.
	LayerWater = "water"
	// LayerCoastline holds natural=coastline ways as LineStrings, closed or
	// not, in their mapped direction (land on the left); MergeCoastlines
	// joins them into rings.
	LayerCoastline = "coastline"
	// LayerLanduse holds landuse=* areas other than water.
	LayerLanduse = "landuse"
	// LayerAreas holds other areas: amenity, leisure, natural (areal
	// values), tourism, man_made, aeroway, place, military, shop, office,
	// craft, historic, power plants and substations, public_transport
	// platforms, pedestrian squares (highway=* area=yes).
	LayerAreas = "areas"
	// LayerBoundaries holds type=boundary relations and multipolygons
	// tagged boundary=* with no other area tag, as MultiPolygon or Polygon.
	LayerBoundaries = "boundaries"
	// LayerPOIs holds tagged nodes that are points of interest (see
	// package documentation), as Points.
	LayerPOIs = "pois"
)

// LayerName returns the layer a feature of base layer base goes to under
// the prefix given as importers.Options.Layer: base itself when prefix is
// empty, else prefix + "_" + base.
func LayerName(prefix, base string) string {
	if prefix == "" {
		return base
	}
	return prefix + "_" + base
}

// MetresPerLevel is the storey height used for Feature.Height when a
// building or building part has building:levels but no height tag. Roof
// levels (roof:levels) are not added: OSM counts them apart and their
// height depends on the roof shape.
const MetresPerLevel = 3.0

type tag struct{ k, v string }

type tagList []tag

func (t tagList) get(k string) string {
	for _, x := range t {
		if x.k == k {
			return x.v
		}
	}
	return ""
}

type geomKind uint8

const (
	geomNone geomKind = iota
	geomLine
	geomArea
)

// The value sets below are functions, not package-level maps, so the
// package holds no mutable state.

func isWaterLine(v string) bool {
	switch v {
	case "river", "stream", "canal", "drain", "ditch", "tidal_channel":
		return true
	}
	return false
}

func isRailwayLine(v string) bool {
	switch v {
	case "rail", "subway", "tram", "light_rail", "monorail", "narrow_gauge", "funicular", "preserved":
		return true
	}
	return false
}

// isNaturalLine reports natural=* values that are lines, not areas.
func isNaturalLine(v string) bool {
	switch v {
	case "coastline", "tree_row", "cliff", "ridge", "arete", "earth_bank", "gully", "valley":
		return true
	}
	return false
}

// isManMadeLine reports man_made=* values that are lines, not areas.
func isManMadeLine(v string) bool {
	switch v {
	case "pipeline", "embankment", "breakwater", "groyne", "cutline", "dyke", "pier", "goods_conveyor":
		return true
	}
	return false
}

// isAerowayLine reports aeroway=* values that are lines, not areas.
func isAerowayLine(v string) bool {
	switch v {
	case "runway", "taxiway", "parking_position", "holding_position":
		return true
	}
	return false
}

func isPowerArea(v string) bool {
	switch v {
	case "plant", "substation", "generator", "transformer":
		return true
	}
	return false
}

// isAreaKey reports keys whose presence makes a closed way an area of
// LayerAreas.
func isAreaKey(k string) bool {
	switch k {
	case "amenity", "leisure", "tourism", "place", "military", "shop", "office", "craft", "historic", "healthcare", "sport":
		return true
	}
	return false
}

// isPOIKey reports keys whose presence makes a node a point of interest.
func isPOIKey(k string) bool {
	switch k {
	case "amenity", "shop", "tourism", "leisure", "office", "craft", "healthcare", "historic", "emergency", "aeroway", "place", "sport", "man_made", "natural":
		return true
	}
	return false
}

// isPOIValue reports key=value pairs that make a node a point of interest
// although the key alone does not.
func isPOIValue(k, v string) bool {
	switch k {
	case "railway":
		switch v {
		case "station", "halt", "tram_stop", "subway_entrance", "stop", "platform":
			return true
		}
	case "highway":
		switch v {
		case "bus_stop", "traffic_signals", "motorway_junction", "elevator":
			return true
		}
	case "public_transport":
		switch v {
		case "station", "stop_position", "platform":
			return true
		}
	}
	return false
}

func isWaterArea(t tagList) bool {
	switch {
	case t.get("natural") == "water":
		return true
	case t.get("waterway") == "riverbank", t.get("waterway") == "dock":
		return true
	case t.get("landuse") == "reservoir", t.get("landuse") == "basin":
		return true
	}
	return false
}

// classifyWay decides the layer and geometry of a way from its tags and
// whether it is closed (first node = last node).
func classifyWay(t tagList, closed bool) (string, geomKind) {
	if len(t) == 0 {
		return "", geomNone
	}
	areaTag := t.get("area")
	if t.get("natural") == "coastline" {
		return LayerCoastline, geomLine
	}
	if v := t.get("waterway"); isWaterLine(v) && areaTag != "yes" {
		return LayerWater, geomLine
	}
	if hw := t.get("highway"); hw != "" {
		if closed && (areaTag == "yes" || hw == "services" || hw == "rest_area") {
			return LayerAreas, geomArea
		}
		if hw == "services" || hw == "rest_area" {
			return "", geomNone
		}
		return LayerRoads, geomLine
	}
	if v := t.get("railway"); isRailwayLine(v) && areaTag != "yes" {
		return LayerRailways, geomLine
	}
	if !closed || areaTag == "no" {
		return "", geomNone
	}
	if l := areaLayer(t); l != "" {
		return l, geomArea
	}
	return "", geomNone
}

// areaLayer returns the layer of an area with tags t, or "" when the tags
// do not describe an area this importer keeps.
func areaLayer(t tagList) string {
	if v := t.get("building"); v != "" && v != "no" {
		return LayerBuildings
	}
	if v := t.get("building:part"); v != "" && v != "no" {
		return LayerBuildingParts
	}
	if isWaterArea(t) {
		return LayerWater
	}
	if t.get("landuse") != "" {
		return LayerLanduse
	}
	for _, x := range t {
		switch {
		case isAreaKey(x.k):
			return LayerAreas
		case x.k == "natural" && !isNaturalLine(x.v):
			return LayerAreas
		case x.k == "man_made" && !isManMadeLine(x.v):
			return LayerAreas
		case x.k == "aeroway" && !isAerowayLine(x.v):
			return LayerAreas
		case x.k == "power" && isPowerArea(x.v):
			return LayerAreas
		case x.k == "public_transport" && x.v == "platform", x.k == "railway" && x.v == "platform":
			return LayerAreas
		case x.k == "highway" && x.v != "":
			return LayerAreas
		}
	}
	if t.get("area") == "yes" && len(t) > 1 {
		return LayerAreas
	}
	return ""
}

// classifyRelation returns the layer of a multipolygon or boundary
// relation, or "" when the relation is of another type or carries no tag
// this importer keeps (such as an old-style multipolygon whose tags are on
// its outer way).
func classifyRelation(t tagList) string {
	switch t.get("type") {
	case "boundary":
		return LayerBoundaries
	case "multipolygon":
		if l := areaLayer(t); l != "" {
			return l
		}
		if t.get("boundary") != "" {
			return LayerBoundaries
		}
	}
	return ""
}

// isPOI reports whether a node with tags t is a point of interest.
func isPOI(t tagList) bool {
	for _, x := range t {
		if isPOIKey(x.k) || isPOIValue(x.k, x.v) {
			return true
		}
	}
	return false
}

// tagProblem describes a tag value that could not be normalised.
type tagProblem struct{ key, value, want string }

// properties builds a feature's properties from its tags: every tag is kept
// as a string under its own key, except the keys below, which are replaced
// by typed values (JSON-compatible):
//
//	height, min_height   → "height", "min_height": metres (float64)
//	building:levels      → "levels": int (or float64 for half storeys)
//	building:min_level   → "min_level": int
//	roof:height          → "roof:height": metres (float64)
//	lanes                → "lanes": int
//	oneway               → "oneway": true, false or "reverse" (-1);
//	                       other values (alternating, reversible) kept as text
//	maxspeed             → "maxspeed": km/h (float64)
//	layer                → "layer": int
//	bridge, tunnel       → "bridge", "tunnel": bool; a value other than
//	                       yes/no (viaduct, culvert …) also goes to
//	                       "bridge_type", "tunnel_type"
//
// A value that does not parse is kept as text under key + "_raw" and
// reported. Roads with junction=roundabout or highway=motorway and no
// oneway tag get oneway=true, as OSM implies.
//
// It also returns the feature height (height tag, else levels ×
// MetresPerLevel) and floors (building:levels rounded up).
func properties(t tagList, problems *[]tagProblem) (props map[string]any, height float64, floors int) {
	props = make(map[string]any, len(t)+1)
	bad := func(k, v, want string) {
		props[k+"_raw"] = v
		*problems = append(*problems, tagProblem{k, v, want})
	}
	var levels float64
	hasHeight, hasLevels := false, false
	for _, x := range t {
		k, v := x.k, x.v
		switch k {
		case "height", "min_height", "roof:height":
			if m, ok := ParseLength(v); ok {
				props[k] = m
				if k == "height" {
					height, hasHeight = m, true
				}
			} else {
				bad(k, v, "a length such as 12, 12.5 m or 40 ft")
			}
		case "building:levels":
			if n, ok := parseCount(v); ok {
				levels, hasLevels = n, true
				props["levels"] = numberValue(n)
			} else {
				bad(k, v, "a number of storeys")
			}
		case "building:min_level", "lanes", "layer":
			name := k
			if k == "building:min_level" {
				name = "min_level"
			}
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || (k != "layer" && n < 0) {
				bad(k, v, "an integer")
				continue
			}
			props[name] = n
		case "oneway":
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "yes", "true", "1":
				props[k] = true
			case "no", "false", "0":
				props[k] = false
			case "-1", "reverse":
				props[k] = "reverse"
			default:
				props[k] = v
			}
		case "maxspeed":
			if s, ok := ParseSpeed(v); ok {
				props[k] = s
			} else {
				bad(k, v, "a speed such as 50 or 30 mph")
			}
		case "bridge", "tunnel":
			switch lv := strings.ToLower(v); lv {
			case "no", "false", "0":
				props[k] = false
			case "yes", "true", "1":
				props[k] = true
			default:
				props[k] = true
				props[k+"_type"] = v
			}
		default:
			props[k] = v
		}
	}
	if _, ok := props["oneway"]; !ok && t.get("highway") != "" {
		if j := t.get("junction"); j == "roundabout" || j == "circular" || t.get("highway") == "motorway" {
			props["oneway"] = true
		}
	}
	if hasLevels {
		floors = int(math.Ceil(levels))
		if !hasHeight {
			height = levels * MetresPerLevel
		}
	}
	return props, height, floors
}

// numberValue returns n as an int when it is integral, else as float64.
func numberValue(n float64) any {
	if n == math.Trunc(n) && math.Abs(n) < 1<<31 {
		return int(n)
	}
	return n
}

// parseCount parses a non-negative storey count such as "3" or "2.5".
func parseCount(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(f >= 0) || f > 1000 {
		return 0, false
	}
	return f, true
}

const (
	metresPerFoot = 0.3048
	metresPerInch = 0.0254
	kmhPerMph     = 1.609344
	kmhPerKnot    = 1.852
)

// ParseLength parses an OSM length (height=*, min_height=*, width=*) into
// metres. It accepts a plain number (metres, the OSM default), a number
// with a unit m, metre(s), meter(s), km, cm, ft, foot, feet or mi, with or
// without a space ("12", "12 m", "12.5m", "40 ft"), the feet-and-inches
// form 12'6" and a decimal comma ("12,5"). Negative, infinite and NaN
// values are rejected.
func ParseLength(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if i := strings.IndexByte(s, '\''); i > 0 {
		ft, ok := plainNumber(s[:i])
		if !ok {
			return 0, false
		}
		m := ft * metresPerFoot
		rest := strings.TrimSpace(s[i+1:])
		if rest != "" {
			in, ok := plainNumber(strings.TrimSuffix(rest, "\""))
			if !ok || !strings.HasSuffix(rest, "\"") {
				return 0, false
			}
			m += in * metresPerInch
		}
		return m, true
	}
	num, unit := splitUnit(s)
	v, ok := plainNumber(num)
	if !ok {
		return 0, false
	}
	switch strings.ToLower(unit) {
	case "", "m", "metre", "metres", "meter", "meters":
		return v, true
	case "km":
		return v * 1000, true
	case "cm":
		return v / 100, true
	case "ft", "foot", "feet":
		return v * metresPerFoot, true
	case "mi", "mile", "miles":
		return v * 1609.344, true
	case "\"", "in", "inch", "inches":
		return v * metresPerInch, true
	}
	return 0, false
}

// ParseSpeed parses an OSM maxspeed into km/h: a plain number (km/h, the
// OSM default) or a number with km/h, kmh, kph, mph or knots ("50",
// "30 mph"). Symbolic values such as "none", "signals", "walk" or
// "RU:urban" and lists such as "50;30" are rejected.
func ParseSpeed(s string) (float64, bool) {
	num, unit := splitUnit(strings.TrimSpace(s))
	v, ok := plainNumber(num)
	if !ok {
		return 0, false
	}
	switch strings.ToLower(unit) {
	case "", "km/h", "kmh", "kph", "kmph":
		return v, true
	case "mph":
		return v * kmhPerMph, true
	case "knots", "knot", "kn":
		return v * kmhPerKnot, true
	}
	return 0, false
}

// splitUnit splits "12.5 m" or "12.5m" into "12.5" and "m".
func splitUnit(s string) (num, unit string) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == ',' || s[i] == '-' || s[i] == '+') {
		i++
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// plainNumber parses a non-negative finite decimal, accepting one decimal
// comma in place of a point.
func plainNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	if s == "" || strings.ContainsAny(s, "eExXpP_iInN") {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}
