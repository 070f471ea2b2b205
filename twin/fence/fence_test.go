package fence

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestValidationNamesTheField(t *testing.T) {
	poly := `{"type":"Polygon","coordinates":[` + square(121.6, 38.9, 121.7, 38.95) + `]}`
	tests := []struct {
		def, field string
	}{
		{`{"id":"f1","geometry":` + poly + `,"extra":1}`, "body"},
		{`{"id":"f1","geometry":` + poly + `} {}`, "body"},
		{`[1,2]`, "body"},
		{`{"id":"bad id!","geometry":` + poly + `}`, "id"},
		{`{"id":"` + strings.Repeat("x", 129) + `","geometry":` + poly + `}`, "id"},
		{`{"id":"f1","name":"` + strings.Repeat("n", 257) + `","geometry":` + poly + `}`, "name"},
		{`{"id":"f1"}`, "geometry"},
		{`{"id":"f1","geometry":null}`, "geometry"},
		{`{"id":"f1","geometry":` + poly + `,"grid":"G001310322"}`, "geometry"},
		{`{"id":"f1","geometry":"polygon"}`, "geometry"},
		{`{"id":"f1","geometry":{"coordinates":[1,2]}}`, "geometry.type"},
		{`{"id":"f1","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}}`, "geometry.type"},
		{`{"id":"f1","geometry":{"type":"Polygon"}}`, "geometry.coordinates"},
		{`{"id":"f1","geometry":{"type":"Polygon","coordinates":[]}}`, "geometry.coordinates"},
		{`{"id":"f1","geometry":{"type":"Polygon","coordinates":[[[121.6,38.9],[121.7,38.9],[121.6,38.9]]]}}`, "geometry.coordinates[0]"},
		{`{"id":"f1","geometry":{"type":"Polygon","coordinates":[[[121.6,38.9],[121.7,38.9],[121.7,38.95],[121.6,38.95]]]}}`, "geometry.coordinates[0]"},
		{`{"id":"f1","geometry":{"type":"Polygon","coordinates":[` + square(121.6, 38.9, 121.7, 38.95) + `,[[121.6,38.9],[121.7,38.9],[121.6,38.9]]]}}`, "geometry.coordinates[1]"},
		{`{"id":"f1","geometry":{"type":"Polygon","coordinates":[[[200,38.9],[121.7,38.9],[121.7,38.95],[200,38.9]]]}}`, "geometry.coordinates[0][0]"},
		{`{"id":"f1","geometry":{"type":"Polygon","coordinates":[[[121.6],[121.7,38.9],[121.7,38.95],[121.6]]]}}`, "geometry.coordinates[0][0]"},
		{`{"id":"f1","geometry":{"type":"MultiPolygon","coordinates":[]}}`, "geometry.coordinates"},
		{`{"id":"f1","geometry":{"type":"MultiPolygon","coordinates":[[` + square(1, 1, 2, 2) + `],[[[1,1],[2,1],[1,1]]]]}}`, "geometry.coordinates[1][0]"},
		{`{"id":"f1","geometry":{"type":"Point","coordinates":[121.6,38.9]}}`, "radius"},
		{`{"id":"f1","geometry":{"type":"Point","coordinates":[121.6,38.9]},"radius":0}`, "radius"},
		{`{"id":"f1","geometry":{"type":"Point","coordinates":[121.6,38.9]},"radius":-5}`, "radius"},
		{`{"id":"f1","geometry":{"type":"Point","coordinates":[121.6,38.9]},"radius":1e9}`, "radius"},
		{`{"id":"f1","geometry":{"type":"Point","coordinates":[121.6,38.9],"radius":5},"radius":6}`, "radius"},
		{`{"id":"f1","geometry":{"type":"Point","coordinates":[121.6,91]},"radius":5}`, "geometry.coordinates"},
		{`{"id":"f1","geometry":` + poly + `,"radius":5}`, "radius"},
		{`{"id":"f1","grid":"G001310322","radius":5}`, "radius"},
		{`{"id":"f1","geometry":` + poly + `,"detect":["enter","leave"]}`, "detect[1]"},
		{`{"id":"f1","geometry":` + poly + `,"filters":["kind=bus","speed"]}`, "filters[1]"},
		{`{"id":"f1","geometry":` + poly + `,"layers":[""]}`, "layers[0]"},
		{`{"id":"f1","grid":"X0013"}`, "grid"},
		{`{"id":"f1","grid":"G0013104"}`, "grid"},
		{`{"id":"f1","geometry":` + poly + `,"webhook":{"url":"ftp://example.com"}}`, "webhook.url"},
		{`{"id":"f1","geometry":` + poly + `,"webhook":{"url":"/relative"}}`, "webhook.url"},
		{`{"id":"r","roam":{"near":{"layer":"buses"},"meters":50}}`, "roam.layer"},
		{`{"id":"r","roam":{"layer":"a","meters":50}}`, "roam.near.layer"},
		{`{"id":"r","roam":{"layer":"a","near":{"layer":"b"}}}`, "roam.meters"},
		{`{"id":"r","roam":{"layer":"a","near":{"layer":"b"},"meters":20000}}`, "roam.meters"},
		{`{"id":"r","roam":{"layer":"a","filters":["x"],"near":{"layer":"b"},"meters":5}}`, "roam.filters[0]"},
		{`{"id":"r","roam":{"layer":"a","near":{"layer":"b","filters":["ok=1","<5"]},"meters":5}}`, "roam.near.filters[1]"},
		{`{"id":"r","roam":{"layer":"a","near":{"layer":"b"},"meters":5},"detect":["inside"]}`, "detect[0]"},
		{`{"id":"r","roam":{"layer":"a","near":{"layer":"b"},"meters":5},"layers":["a"]}`, "layers"},
		{`{"id":"r","roam":{"layer":"a","near":{"layer":"b"},"meters":5},"filters":["a=1"]}`, "filters"},
	}
	for _, tc := range tests {
		_, err := ParseDefinition([]byte(tc.def))
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v, want a FieldError", tc.def, err)
			continue
		}
		if fe.Field != tc.field {
			t.Errorf("%s: field %q (%v), want %q", tc.def, fe.Field, err, tc.field)
		}
		if !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: message %q does not name %q", tc.def, err, tc.field)
		}
	}
}

func TestAddValidates(t *testing.T) {
	// A roaming fence needs a Finder.
	_, err := New(nil).Add(Definition{ID: "r", Roam: &Roam{Layer: "a", Near: Target{Layer: "b"}, Meters: 5}})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "roam" {
		t.Errorf("roaming fence without a finder: %v", err)
	}
	_, err = New(nil).Add(Definition{ID: "f", Detect: []string{"enter"}})
	if !errors.As(err, &fe) || fe.Field != "geometry" {
		t.Errorf("no geometry: %v", err)
	}
}

func TestDefinitionRoundTrip(t *testing.T) {
	defs := []string{
		`{"id":"p","name":"Harbour","geometry":{"type":"Polygon","coordinates":[` + square(121.6, 38.9, 121.7, 38.95) + `,` + square(121.64, 38.92, 121.66, 38.93) + `]},"layers":["vehicles","buses"],"filters":["kind=ambulance","speed>5"],"detect":["enter","exit","cross","inside","outside"],"webhook":{"url":"https://hooks.example.com/x","secret":"s3"}}`,
		`{"id":"m","geometry":{"type":"MultiPolygon","coordinates":[[` + square(1, 1, 2, 2) + `],[` + square(3, 3, 4, 4) + `]]}}`,
		`{"id":"c","geometry":{"type":"Point","coordinates":[121.6,38.9,12],"radius":75.5}}`,
		`{"id":"g","grid":"G001310322-230230"}`,
		`{"id":"r","roam":{"layer":"ambulances","filters":["siren=on"],"near":{"layer":"buses","filters":["line=5"]},"meters":50},"detect":["enter"]}`,
		// Self-intersecting (a bow tie) is accepted.
		`{"id":"bow","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}`,
	}
	for _, js := range defs {
		d1, err := ParseDefinition([]byte(js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		b, err := json.Marshal(d1)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := ParseDefinition(b)
		if err != nil {
			t.Fatalf("re-parse %s: %v", b, err)
		}
		if !reflect.DeepEqual(d1, d2) {
			t.Errorf("round trip changed the definition:\n%+v\n%+v", d1, d2)
		}
		b2, _ := json.Marshal(d2)
		if string(b) != string(b2) {
			t.Errorf("round trip JSON differs:\n%s\n%s", b, b2)
		}
		if _, err := New(newWorld()).Add(d2); err != nil {
			t.Errorf("Add(%s): %v", b, err)
		}
	}
	// Normalisation: default detect, canonical grid code, radius out of
	// the geometry, 2D coordinates for a circle's centre.
	d, _ := ParseDefinition([]byte(`{"id":"g","grid":"G001310322230230"}`))
	if d.Grid != "G001310322-230230" || !reflect.DeepEqual(d.Detect, DefaultDetect) {
		t.Errorf("grid definition not normalised: %+v", d)
	}
	d, _ = ParseDefinition([]byte(`{"id":"c","geometry":{"type":"Point","coordinates":[121.6,38.9,12],"radius":75.5}}`))
	if d.Radius != 75.5 || string(d.Geometry) != `{"type":"Point","coordinates":[121.6,38.9]}` {
		t.Errorf("circle definition not normalised: radius %v geometry %s", d.Radius, d.Geometry)
	}
	d, _ = ParseDefinition([]byte(`{"id":"r","roam":{"layer":"a","near":{"layer":"b"},"meters":5}}`))
	if !reflect.DeepEqual(d.Detect, DefaultRoamDetect) {
		t.Errorf("roaming default detect %v", d.Detect)
	}
}
