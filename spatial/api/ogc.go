package api

import (
	"net/http"
	"net/url"

	"citytwin/internal/httpx"
)

// OGC API – Features, Part 1 (core, GeoJSON): the landing page,
// conformance, collections and items over the same layers.

func (a *API) landing(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"title":       "CityTwin",
		"description": "Spatiotemporal digital twin: layers, grid codes, tiles and live state.",
		"links": []link{
			{Href: "/api/v1/", Rel: "self", Type: "application/json"},
			{Href: "/api/v1/conformance", Rel: "conformance", Type: "application/json"},
			{Href: "/api/v1/collections", Rel: "data", Type: "application/json"},
		},
	})
}

func (a *API) conformance(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"conformsTo": []string{
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	}})
}

type collectionJSON struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Attribution string `json:"attribution,omitempty"`
	Extent      struct {
		Spatial struct {
			BBox [][4]float64 `json:"bbox"`
			CRS  string       `json:"crs"`
		} `json:"spatial"`
	} `json:"extent"`
	ItemType string `json:"itemType"`
	Links    []link `json:"links"`
}

func (a *API) collectionOf(name string) (collectionJSON, error) {
	li, err := a.findLayer(name)
	if err != nil {
		return collectionJSON{}, err
	}
	c := collectionJSON{ID: li.Name, Title: li.Name, Attribution: a.attribution, ItemType: "feature"}
	c.Extent.Spatial.BBox = [][4]float64{{li.Bound.Min[0], li.Bound.Min[1], li.Bound.Max[0], li.Bound.Max[1]}}
	c.Extent.Spatial.CRS = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
	esc := url.PathEscape(li.Name)
	c.Links = []link{
		{Href: "/api/v1/collections/" + esc, Rel: "self", Type: "application/json"},
		{Href: "/api/v1/collections/" + esc + "/items", Rel: "items", Type: "application/geo+json"},
	}
	return c, nil
}

func (a *API) collections(w http.ResponseWriter, r *http.Request) {
	out := []collectionJSON{}
	for _, li := range a.kernel.Index().Layers() {
		c, err := a.collectionOf(li.Name)
		if err != nil {
			fail(w, err)
			return
		}
		out = append(out, c)
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"collections": out,
		"links":       []link{{Href: "/api/v1/collections", Rel: "self", Type: "application/json"}},
	})
}

func (a *API) collection(w http.ResponseWriter, r *http.Request) {
	c, err := a.collectionOf(r.PathValue("layer"))
	if err != nil {
		fail(w, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c)
}

// items is /collections/{id}/items: the same search as /layers/{layer}/features.
func (a *API) items(w http.ResponseWriter, r *http.Request) { a.features(w, r) }
