package fence

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzParseDefinition: any input either fails with a FieldError or yields
// a definition that is a fixed point of marshal → parse and that the
// engine accepts, and whose fence survives an update at its corner.
func FuzzParseDefinition(f *testing.F) {
	for _, s := range []string{
		`{"id":"p","geometry":{"type":"Polygon","coordinates":[[[121.6,38.9],[121.7,38.9],[121.7,38.95],[121.6,38.9]]]},"filters":["a>=1"],"detect":["inside","outside"]}`,
		`{"id":"m","geometry":{"type":"MultiPolygon","coordinates":[[[[1,1],[2,1],[2,2],[1,1]]]]}}`,
		`{"geometry":{"type":"Point","coordinates":[121.6,38.9]},"radius":10}`,
		`{"id":"g","grid":"G001310322-230230"}`,
		`{"id":"r","roam":{"layer":"a","near":{"layer":"b","filters":["x!=1"]},"meters":50}}`,
		`{"id":"w","grid":"1:1","webhook":{"url":"http://h/x","secret":"k"}}`,
		`{}`, `null`, `[]`, `{"geometry":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d1, err := ParseDefinition(data)
		if err != nil {
			var fe *FieldError
			if !asFieldError(err, &fe) {
				t.Fatalf("error %v is not a FieldError", err)
			}
			return
		}
		b, err := json.Marshal(d1)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := ParseDefinition(b)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", b, err)
		}
		if !reflect.DeepEqual(d1, d2) {
			t.Fatalf("not a fixed point:\n%+v\n%+v", d1, d2)
		}
		e := New(newWorld())
		stored, err := e.Add(d2)
		if err != nil {
			t.Fatalf("Add(%s): %v", b, err)
		}
		if f := e.fences[stored.ID]; f.roam == nil {
			o := Object{ID: "o", Layer: "l", Lon: f.bound.Min[0], Lat: f.bound.Min[1]}
			e.Update(nil, o)
			e.Forget(o)
		}
	})
}

func asFieldError(err error, fe **FieldError) bool {
	e, ok := err.(*FieldError)
	*fe = e
	return ok
}
