package samples

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// The real data shipped with the package; see README.md for sources and
// licences. An embed.FS is read-only.
//
//go:embed data/dalian_land_osm_geomaps10m.geojson data/dalian_land_naturalearth10m.geojson data/dalian_admin_codes.csv data/dalian_railway_stations_osm.geojson
var dataFS embed.FS

const (
	fileLandOSM  = "data/dalian_land_osm_geomaps10m.geojson"
	fileLandNE   = "data/dalian_land_naturalearth10m.geojson"
	fileAdmin    = "data/dalian_admin_codes.csv"
	fileStations = "data/dalian_railway_stations_osm.geojson"
)

// The clip box of every shipped extract, in degrees.
const (
	boxWest, boxSouth, boxEast, boxNorth = 120.85, 38.60, 123.65, 40.32
)

// Bounds returns the Dalian clip box [120.85, 38.60, 123.65, 40.32] that all
// shipped data is cut to and the "sea" layer fills.
func Bounds() orb.Bound {
	return dalianBox().bound()
}

func dalianBox() rect { return rect{boxWest, boxSouth, boxEast, boxNorth} }

// AdminCode is one row of the GB/T 2260 administrative division table of
// Dalian shipped with the package.
type AdminCode struct {
	// Code is the six-digit adcode, e.g. "210202".
	Code string `json:"adcode"`
	// NameZh is the Chinese name, e.g. "中山区".
	NameZh string `json:"name_zh"`
	// NameEn is the English name, e.g. "Zhongshan District".
	NameEn string `json:"name_en"`
	// Level is the kind of division ("district", "county", …).
	Level string `json:"level"`
	// Parent is the adcode of the enclosing division.
	Parent string `json:"parent_adcode"`
	// Note is free text, often empty.
	Note string `json:"note,omitempty"`
}

// AdminCodes returns the shipped table: Dalian itself and its ten
// county-level divisions. The table has codes only; no licensed boundaries
// exist for the divisions, so none are generated.
func AdminCodes() ([]AdminCode, error) {
	b, err := dataFS.ReadFile(fileAdmin)
	if err != nil {
		return nil, fmt.Errorf("samples: read %s: %w", fileAdmin, err)
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = 6
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("samples: %s: header: %w", fileAdmin, err)
	}
	if strings.Join(head, ",") != "adcode,name_zh,name_en,level,parent_adcode,note" {
		return nil, fmt.Errorf("samples: %s: unexpected header %q", fileAdmin, head)
	}
	var out []AdminCode
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("samples: %s: %w", fileAdmin, err)
		}
		out = append(out, AdminCode{Code: rec[0], NameZh: rec[1], NameEn: rec[2], Level: rec[3], Parent: rec[4], Note: rec[5]})
	}
	return out, nil
}

// landPart is one cleaned land polygon and the index of the source polygon
// it came from.
type landPart struct {
	src  int
	poly orb.Polygon
}

// loadLand reads a land file (one MultiPolygon feature) and returns its
// polygons made valid inside the clip box.
func loadLand(name string) ([]landPart, error) {
	b, err := dataFS.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("samples: read %s: %w", name, err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		return nil, fmt.Errorf("samples: parse %s: %w", name, err)
	}
	var polys []orb.Polygon
	for _, f := range fc.Features {
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			polys = append(polys, g)
		case orb.MultiPolygon:
			polys = append(polys, g...)
		default:
			return nil, fmt.Errorf("samples: %s: unexpected geometry %T", name, f.Geometry)
		}
	}
	box := dalianBox()
	var out []landPart
	for i, p := range polys {
		ps, err := box.cleanPolygon(p)
		if err != nil {
			return nil, fmt.Errorf("samples: %s: polygon %d: %w", name, i, err)
		}
		sortPolygons(ps)
		for _, q := range ps {
			out = append(out, landPart{src: i, poly: normalizePolygon(q)})
		}
	}
	return out, nil
}

// station is one railway point of the OSM extract.
type station struct {
	pt   orb.Point
	name string
	kind string
}

func loadStations() ([]station, error) {
	b, err := dataFS.ReadFile(fileStations)
	if err != nil {
		return nil, fmt.Errorf("samples: read %s: %w", fileStations, err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		return nil, fmt.Errorf("samples: parse %s: %w", fileStations, err)
	}
	out := make([]station, 0, len(fc.Features))
	for i, f := range fc.Features {
		p, ok := f.Geometry.(orb.Point)
		if !ok {
			return nil, fmt.Errorf("samples: %s: feature %d: geometry %T, want Point", fileStations, i, f.Geometry)
		}
		s := station{pt: p}
		s.name, _ = f.Properties["name"].(string)
		s.kind, _ = f.Properties["station"].(string)
		out = append(out, s)
	}
	return out, nil
}
