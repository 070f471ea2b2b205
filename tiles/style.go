package tiles

import "citytwin/spatial"

// Style returns a MapLibre GL style (version 8) drawing the given layers
// from this server's vector tiles: sea and land, districts, blocks, unit
// grids, streets by class, buildings extruded by height, stations,
// sensors and open grid-management cases. Layers without a style of their own are drawn generically by
// geometry. It uses no glyphs or sprites, so nothing is fetched from a CDN.
func Style(base string, layers []spatial.LayerInfo) map[string]any {
	have := map[string]bool{}
	for _, li := range layers {
		have[li.Name] = true
	}
	var out []map[string]any
	out = append(out, map[string]any{"id": "background", "type": "background", "paint": map[string]any{"background-color": "#a9cbe6"}})
	add := func(name string, l map[string]any) {
		if !have[name] {
			return
		}
		l["source"] = "citytwin"
		l["source-layer"] = name
		out = append(out, l)
	}
	add("sea", map[string]any{"id": "sea", "type": "fill", "paint": map[string]any{"fill-color": "#a9cbe6"}})
	add("land_lowres", map[string]any{"id": "land_lowres", "type": "fill", "maxzoom": 8, "paint": map[string]any{"fill-color": "#f2efe9"}})
	add("land", map[string]any{"id": "land", "type": "fill", "minzoom": 8, "paint": map[string]any{"fill-color": "#f2efe9"}})
	add("districts", map[string]any{"id": "districts", "type": "line", "paint": map[string]any{"line-color": "#8c6bb1", "line-width": 2, "line-dasharray": []float64{3, 2}}})
	add("blocks", map[string]any{"id": "blocks", "type": "fill", "minzoom": 13, "paint": map[string]any{"fill-color": "#ebe6dc", "fill-outline-color": "#d9d2c5"}})
	add("grids", map[string]any{"id": "grids", "type": "line", "minzoom": 13, "paint": map[string]any{"line-color": "#e6550d", "line-width": 0.8, "line-opacity": 0.6}})
	add("streets", map[string]any{"id": "streets", "type": "line", "layout": map[string]any{"line-cap": "round", "line-join": "round"},
		"paint": map[string]any{
			"line-color": []any{"match", []any{"get", "class"}, "arterial", "#f4a259", "secondary", "#f7d774", "#ffffff"},
			"line-width": []any{"interpolate", []any{"linear"}, []any{"zoom"}, 12, 1, 16,
				[]any{"match", []any{"get", "class"}, "arterial", 10, "secondary", 7, 4}},
		}})
	add("buildings", map[string]any{"id": "buildings", "type": "fill-extrusion", "minzoom": 13,
		"paint": map[string]any{
			"fill-extrusion-color": []any{"match", []any{"get", "use"},
				"residential", "#d9c8a9", "commercial", "#e8a87c", "office", "#9fb7d6", "school", "#b5d99c",
				"hospital", "#f2b5b5", "industrial", "#bdbdbd", "#cfc6b8"},
			"fill-extrusion-height":  []any{"coalesce", []any{"get", "height"}, 3},
			"fill-extrusion-opacity": 0.9,
		}})
	add("stations", map[string]any{"id": "stations", "type": "circle", "paint": map[string]any{"circle-color": "#31688e", "circle-radius": 4, "circle-stroke-color": "#ffffff", "circle-stroke-width": 1}})
	add("sensors", map[string]any{"id": "sensors", "type": "circle", "minzoom": 13, "paint": map[string]any{"circle-color": "#35b779", "circle-radius": 3}})
	// Grid-management cases still open, coloured by their stage.
	add("cases", map[string]any{"id": "cases", "type": "circle",
		"filter": []any{"match", []any{"get", "status"}, []any{"closed", "rejected"}, false, true},
		"paint": map[string]any{
			"circle-color": []any{"match", []any{"get", "status"},
				"intake", "#fd8d3c", "registered", "#f03b20", "dispatched", "#bd0026", "handled", "#756bb1", "verified", "#3182bd", "#636363"},
			"circle-radius":       []any{"interpolate", []any{"linear"}, []any{"zoom"}, 12, 3, 17, 7},
			"circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5,
		}})
	styled := map[string]bool{"sea": true, "land_lowres": true, "land": true, "districts": true, "blocks": true, "grids": true, "streets": true, "buildings": true, "stations": true, "sensors": true, "cases": true}
	for _, li := range layers {
		if styled[li.Name] {
			continue
		}
		for _, g := range []struct{ kind, geom string }{{"fill", "Polygon"}, {"line", "LineString"}, {"circle", "Point"}} {
			l := map[string]any{"id": li.Name + "-" + g.kind, "type": g.kind, "source": "citytwin", "source-layer": li.Name,
				"filter": []any{"==", []any{"geometry-type"}, g.geom}}
			switch g.kind {
			case "fill":
				l["paint"] = map[string]any{"fill-color": "#9e9ac8", "fill-opacity": 0.4}
			case "line":
				l["paint"] = map[string]any{"line-color": "#6a51a3"}
			default:
				l["paint"] = map[string]any{"circle-color": "#6a51a3", "circle-radius": 3}
			}
			out = append(out, l)
		}
	}
	return map[string]any{
		"version": 8,
		"name":    "CityTwin",
		"center":  []float64{121.64, 38.92},
		"zoom":    13,
		"pitch":   45,
		"sources": map[string]any{"citytwin": map[string]any{"type": "vector", "url": base + "/api/v1/tiles/all.json"}},
		"layers":  out,
	}
}
