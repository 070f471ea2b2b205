package cityjson

import (
	"errors"
	"fmt"
	"math"

	"citytwin/importers"
	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// Property names the importer sets (attributes keep their own names).
const (
	// PropType is the CityObject type, e.g. "Building", "BuildingStorey" or
	// an extension type such as "+NoiseBuilding".
	PropType = "cityjson:type"
	// PropParents lists the parent ids ([]any of string).
	PropParents = "cityjson:parents"
	// PropChildren lists the child ids ([]any of string).
	PropChildren = "cityjson:children"
	// PropRoles is a CityObjectGroup's "children_roles", as declared.
	PropRoles = "cityjson:children_roles"
	// PropLoD is the highest LoD among the object's geometries ("2.2").
	PropLoD = "cityjson:lod"
	// PropLoDs lists every LoD of the object, ascending ([]any of string).
	PropLoDs = "cityjson:lods"
	// PropGeometry is a compact JSON array of the object's 3D geometries:
	// CityJSON geometry objects whose vertex indices are replaced by
	// [longitude, latitude, height], with semantics, and with instances
	// expanded (marked by their "template" index).
	PropGeometry = "cityjson:geometry"
	// PropSemantics maps semantic surface types to primitive counts.
	PropSemantics = "cityjson:semantics"
	// PropZMin is the lowest height of the object's geometry, in metres.
	PropZMin = "cityjson:zmin"
	// PropZMax is the highest height of the object's geometry, in metres.
	PropZMax = "cityjson:zmax"
	// PropFootprint names the rule that produced Geometry: "ground",
	// "lowest", "hull", "surface", "surfaces", "points", "lines",
	// "address", "children", "parent", "extent" or "none".
	PropFootprint = "cityjson:footprint"
	// PropAddress holds the addresses, each location's vertex indices
	// replaced by "coordinates" [[lon, lat, height], …].
	PropAddress = "cityjson:address"
	// PropExtent is the object's geographicalExtent as declared, in the
	// input CRS.
	PropExtent = "cityjson:geographicalExtent"
	// PropFeature is the id of the enclosing CityJSONFeature (CityJSONSeq).
	PropFeature = "cityjson:feature"
	// PropExtPrefix prefixes any other member of a city object (extension
	// members such as "+noise"), whose value is kept as decoded JSON.
	PropExtPrefix = "cityjson:"
)

// Attributes with a meaning for the feature.
const (
	attrMeasured   = "measuredHeight"
	attrStoreysAbv = "storeysAboveGround"
)

// object decodes one city object and emits it, or parks it in the scope
// when it has no location of its own.
func (imp *importer) object(doc *document, id string, raw []byte, at pos, ord int) error {
	imp.ord = ord
	if err := imp.objectErr(doc, id, raw, at); err != nil {
		if errors.Is(err, errNeedTemplates) {
			return err
		}
		return fmt.Errorf("CityObject %q: %w", truncate(id, 80), err)
	}
	return nil
}

func (imp *importer) objectErr(doc *document, id string, raw []byte, at pos) error {
	r := res{vs: doc.vs, conv: imp.conv}
	props := map[string]any{}
	var (
		typ       string
		geoms     []*geom
		parents   []string
		children  []string
		extent    []float64
		addrPts   [][3]float64
		instances int
	)
	err := forMembers(raw, at, "CityObject", func(key string, val []byte, vat pos) error {
		switch key {
		case "type":
			return decode(val, vat, "type", &typ)
		case "attributes":
			var attrs map[string]any
			if err := decode(val, vat, "attributes", &attrs); err != nil {
				return err
			}
			for k, v := range attrs {
				props[k] = v
			}
		case "geometry":
			return forElements(val, vat, "geometry", func(_ int, gv []byte, gat pos) error {
				rg, err := readGeom(gv, gat)
				if err != nil {
					return err
				}
				var g *geom
				if rg.typ == "GeometryInstance" {
					if imp.templates == nil && doc.root && !doc.finished {
						return errNeedTemplates
					}
					g, err = expandInstance(rg, imp.templates, r)
					instances++
				} else {
					g, err = buildGeom(rg, r)
				}
				if err != nil {
					return err
				}
				geoms = append(geoms, g)
				return nil
			})
		case "parents":
			return decode(val, vat, "parents", &parents)
		case "children":
			return decode(val, vat, "children", &children)
		case "children_roles":
			var roles any
			if err := decode(val, vat, "children_roles", &roles); err != nil {
				return err
			}
			props[PropRoles] = roles
		case "geographicalExtent":
			if err := decode(val, vat, "geographicalExtent", &extent); err != nil {
				return err
			}
			if extent != nil && len(extent) != 6 {
				return errAt(vat, "geographicalExtent has %d values (want 6)", len(extent))
			}
			ext := make([]any, len(extent))
			for i, v := range extent {
				ext[i] = v
			}
			if len(ext) > 0 {
				props[PropExtent] = ext
			}
		case "address":
			addr, pts, err := readAddress(val, vat, r)
			if err != nil {
				return err
			}
			props[PropAddress] = addr
			addrPts = pts
		default:
			var v any
			if err := decode(val, vat, key, &v); err != nil {
				return err
			}
			props[PropExtPrefix+key] = v
		}
		return nil
	})
	if err != nil {
		return err
	}
	if typ == "" {
		return errAt(at, "no \"type\"")
	}
	st := &imp.stats
	st.CityObjects++
	st.Types[typ]++
	props[PropType] = typ
	if parents != nil {
		props[PropParents] = strings2any(parents)
	}
	if children != nil {
		props[PropChildren] = strings2any(children)
	}
	if !doc.root && doc.id != "" {
		props[PropFeature] = doc.id
	}
	st.Instances += instances
	lods := map[string]float64{}
	sem := map[string]any{}
	zmin, zmax := math.Inf(1), math.Inf(-1)
	for _, g := range geoms {
		st.Geometries++
		if g.template >= 0 {
			st.GeometryTypes["GeometryInstance"]++
		} else {
			st.GeometryTypes[g.typ]++
		}
		if g.lod != "" {
			st.LoDs[g.lod]++
			lods[g.lod] = lodValue(g.lod)
		}
		for k := range g.sem {
			if t := g.surfaceType(k); t != "" {
				st.Surfaces[t]++
				n, _ := sem[t].(int)
				sem[t] = n + 1
			}
		}
		for _, c := range g.coords {
			zmin = math.Min(zmin, c[2])
			zmax = math.Max(zmax, c[2])
		}
	}
	if len(geoms) > 0 {
		b := append(imp.gbuf[:0], '[')
		for i, g := range geoms {
			if i > 0 {
				b = append(b, ',')
			}
			b = g.appendJSON(b)
		}
		b = append(b, ']')
		props[PropGeometry] = string(b)
		imp.gbuf = b
	}
	if len(lods) > 0 {
		keys := sortedKeys(lods)
		props[PropLoD] = keys[len(keys)-1]
		props[PropLoDs] = strings2any(keys)
	}
	if len(sem) > 0 {
		props[PropSemantics] = sem
	}
	f := &spatial.Feature{Layer: imp.layer, ID: id, Properties: props}
	fp, rule := footprint(geoms, typ)
	if fp == nil && len(addrPts) > 0 {
		mp := make(orb.MultiPoint, len(addrPts))
		for i, p := range addrPts {
			mp[i] = orb.Point{p[0], p[1]}
			zmin = math.Min(zmin, p[2])
			zmax = math.Max(zmax, p[2])
		}
		fp, rule = mp, "address"
	}
	if zmin <= zmax {
		props[PropZMin] = zmin
		props[PropZMax] = zmax
	}
	f.Floors = floors(props)
	f.Height = height(props, zmin, zmax)
	if fp == nil {
		doc.scope.park(&parked{f: f, ord: imp.ord, parents: parents, hasChildren: len(children) > 0, extent: extent})
		return nil
	}
	f.Geometry = fp
	props[PropFootprint] = rule
	doc.scope.located(id, parents, len(children) > 0, fp, zmin, zmax)
	return imp.emit(f)
}

// height is the measuredHeight attribute when valid, else the z range.
func height(props map[string]any, zmin, zmax float64) float64 {
	if h, ok := props[attrMeasured].(float64); ok && finite(h) && h >= 0 {
		return h
	}
	if zmin <= zmax && finite(zmax-zmin) {
		return zmax - zmin
	}
	return 0
}

// floors reads storeysAboveGround when it is a plausible count.
func floors(props map[string]any) int {
	if n, ok := props[attrStoreysAbv].(float64); ok && n >= 0 && n <= 10000 && n == math.Trunc(n) {
		return int(n)
	}
	return 0
}

func strings2any(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// readAddress decodes "address" and resolves each location (a MultiPoint
// of vertex indices) to coordinates [lon, lat, h] under "coordinates".
func readAddress(val []byte, at pos, r res) ([]any, [][3]float64, error) {
	var addrs []any
	if err := decode(val, at, "address", &addrs); err != nil {
		return nil, nil, err
	}
	var pts [][3]float64
	for i, a := range addrs {
		m, ok := a.(map[string]any)
		if !ok {
			return nil, nil, errAt(at, "address %d: want an object", i)
		}
		loc, ok := m["location"].(map[string]any)
		if !ok {
			continue
		}
		b, _ := loc["boundaries"].([]any)
		coords := make([]any, 0, len(b))
		for _, x := range b {
			f, ok := x.(float64)
			if !ok || f < 0 || f != math.Trunc(f) || f > math.MaxInt32 {
				return nil, nil, errAt(at, "address %d: location boundaries must be vertex indices", i)
			}
			p, err := r.vertex(int(f))
			if err != nil {
				return nil, nil, wrapAt(at, fmt.Errorf("address %d location: %w", i, err))
			}
			pts = append(pts, p)
			coords = append(coords, []any{p[0], p[1], p[2]})
		}
		delete(loc, "boundaries")
		loc["coordinates"] = coords
	}
	return addrs, pts, nil
}

// emit passes a feature to the sink.
func (imp *importer) emit(f *spatial.Feature) error {
	if f.Geometry == nil {
		imp.stats.NoGeometry++
	}
	if err := imp.sink(f); err != nil {
		return &importers.Error{File: imp.opts.File, Feature: imp.ord, Err: fmt.Errorf("sink rejected %s/%s: %w", f.Layer, f.ID, err)}
	}
	imp.stats.Features++
	imp.rep.Feature()
	return nil
}

// parked is an object without a location of its own.
type parked struct {
	f           *spatial.Feature
	ord         int
	parents     []string
	hasChildren bool
	extent      []float64
	done        bool
}

// accum gathers the footprints of an object's children.
type accum struct {
	pts        []orb.Point
	zmin, zmax float64
	n          int
	single     orb.Geometry
}

// scope resolves objects without geometry at the end of a document: from
// their children's footprints, else a parent's, else geographicalExtent.
// For a plain CityJSON file it spans the file, for CityJSONSeq one feature.
type scope struct {
	parked  []*parked
	contrib map[string]*accum       // parent id → children's footprints
	shapes  map[string]orb.Geometry // footprint of located objects that have children
}

func newScope() *scope { return &scope{} }

func (sc *scope) park(p *parked) { sc.parked = append(sc.parked, p) }

// located records a located object for its relatives.
func (sc *scope) located(id string, parents []string, hasChildren bool, g orb.Geometry, zmin, zmax float64) {
	if hasChildren {
		if sc.shapes == nil {
			sc.shapes = map[string]orb.Geometry{}
		}
		sc.shapes[id] = g
		delete(sc.contrib, id)
	}
	if len(parents) > 0 && sc.contrib == nil {
		sc.contrib = map[string]*accum{}
	}
	for _, p := range parents {
		if _, ok := sc.shapes[p]; ok {
			continue
		}
		a := sc.contrib[p]
		if a == nil {
			a = &accum{zmin: math.Inf(1), zmax: math.Inf(-1)}
			sc.contrib[p] = a
		}
		a.n++
		if a.n == 1 {
			a.single = g
		} else {
			a.single = nil
		}
		a.pts = append(a.pts, pointsOf(g)...)
		if len(a.pts) > 512 {
			a.pts = convexHull(a.pts)
		}
		a.zmin = math.Min(a.zmin, zmin)
		a.zmax = math.Max(a.zmax, zmax)
	}
}

// resolve locates the parked objects of doc and emits them in input order.
func (imp *importer) resolve(doc *document) error {
	sc := doc.scope
	for progress := true; progress; {
		progress = false
		for _, p := range sc.parked {
			a := sc.contrib[p.f.ID]
			if p.done || a == nil || a.n == 0 {
				continue
			}
			g := a.single
			if g == nil {
				g = hullGeometry(a.pts)
			}
			if g == nil {
				continue
			}
			p.done, progress = true, true
			imp.place(p, g, "children", a.zmin, a.zmax)
			sc.located(p.f.ID, p.parents, p.hasChildren, g, a.zmin, a.zmax)
		}
	}
	for progress := true; progress; {
		progress = false
		for _, p := range sc.parked {
			if p.done {
				continue
			}
			for _, par := range p.parents {
				if g, ok := sc.shapes[par]; ok {
					p.done, progress = true, true
					imp.place(p, orb.Clone(g), "parent", math.Inf(1), math.Inf(-1))
					if p.hasChildren {
						sc.shapes[p.f.ID] = g // non-nil: par was found in it
					}
					break
				}
			}
		}
	}
	for _, p := range sc.parked {
		if p.done || len(p.extent) != 6 {
			continue
		}
		e := p.extent
		var pts []orb.Point
		ok := true
		for _, c := range [][3]float64{{e[0], e[1], e[2]}, {e[3], e[1], e[2]}, {e[3], e[4], e[2]}, {e[0], e[4], e[2]}} {
			q, err := imp.conv.toLonLatH(c)
			if err != nil {
				ok = false
				break
			}
			pts = append(pts, orb.Point{q[0], q[1]})
		}
		if g := hullGeometry(pts); ok && g != nil {
			p.done = true
			zlo, zhi := e[2], e[5]
			if _, geo := imp.conv.(ecefConv); geo {
				zlo, zhi = math.Inf(1), math.Inf(-1)
			}
			imp.place(p, g, "extent", zlo, zhi)
		}
	}
	for _, p := range sc.parked {
		if !p.done {
			p.f.Properties[PropFootprint] = "none"
		}
		imp.ord = p.ord
		if err := imp.emit(p.f); err != nil {
			return err
		}
		imp.ord = 0
	}
	sc.parked = nil
	return nil
}

// place gives a parked feature its derived geometry.
func (imp *importer) place(p *parked, g orb.Geometry, rule string, zmin, zmax float64) {
	p.f.Geometry = g
	p.f.Properties[PropFootprint] = rule
	if zmin <= zmax {
		p.f.Properties[PropZMin] = zmin
		p.f.Properties[PropZMax] = zmax
	}
	p.f.Height = height(p.f.Properties, zmin, zmax)
}
