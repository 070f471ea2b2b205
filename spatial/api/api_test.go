package api

import (
	"errors"
	"net/url"
	"testing"
)

func TestParseQuery(t *testing.T) {
	good := []string{
		"bbox=121.6,38.9,121.7,39",
		"time=2020-01-01T00:00:00Z&limit=5&filter=use=office&filter=height>=30",
		`intersects={"type":"Point","coordinates":[121.6,38.9]}`,
		`within={"type":"Polygon","coordinates":[[[121,38],[122,38],[122,39],[121,38]]]}`,
		"cell=G001311221-320330&all_times=true",
	}
	for _, s := range good {
		v, _ := url.ParseQuery(s)
		if _, err := parseQuery(v); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	bad := []string{
		"bbox=1,2,3", "bbox=3,2,1,4", "bbox=a,b,c,d", "bbox=0,0,200,1",
		"time=yesterday", "limit=0", "limit=100001", "limit=x",
		"filter=nope", `intersects={"type":"Polygon","coordinates":[[[1,1],[2,2]]]}`, "intersects=[", "cell=G4",
	}
	for _, s := range bad {
		v, _ := url.ParseQuery(s)
		if _, err := parseQuery(v); err == nil {
			t.Errorf("%s accepted", s)
		}
	}
}

func TestFeatureFromGeoJSON(t *testing.T) {
	f, err := FeatureFromGeoJSON("buildings", "b1", []byte(`{"type":"Feature","geometry":{"type":"Point","coordinates":[121.6,38.9]},
		"properties":{"height":12.5,"floors":4,"valid_from":"2001-02-03T00:00:00Z","use":"school","gridcode":"ignored","layer":"ignored"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Height != 12.5 || f.Floors != 4 || f.ValidFrom.Year() != 2001 || f.Properties["use"] != "school" || f.Properties["gridcode"] != nil || f.Properties["layer"] != nil {
		t.Errorf("%+v", f)
	}
	for _, b := range []string{`{`, `{"type":"Feature","geometry":null,"properties":{"height":"tall"}}`,
		`{"type":"Feature","geometry":null,"properties":{"floors":2.5}}`, `{"type":"Feature","geometry":null,"properties":{"valid_to":"soon"}}`} {
		if _, err := FeatureFromGeoJSON("l", "i", []byte(b)); !errors.Is(err, errBadRequest) {
			t.Errorf("%s: %v", b, err)
		}
	}
}
