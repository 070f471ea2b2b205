// Package geojson imports GeoJSON (RFC 7946, plus the GeoJSON 2008 "crs"
// member) into CityTwin features, streaming in memory that does not grow
// with the file: a FeatureCollection is read one feature at a time with
// encoding/json's Decoder (Token and More for the structure, Decode into a
// json.RawMessage for each feature), so only the feature being converted
// is held.
//
// # Input forms
//
// The form is recognised from the input itself (Stats.Form reports it):
//
//   - a FeatureCollection; its "features" array is streamed;
//   - a single Feature, or a bare geometry (Point … GeometryCollection),
//     which becomes one feature;
//   - a JSON array of Features (not GeoJSON, but common), streamed;
//   - a sequence: newline-delimited GeoJSON (GeoJSONSeq, NDJSON, one Feature
//     per line) or an RFC 8142 text sequence, where each text is preceded
//     by RS (0x1E). Each text may be any of the forms above; any JSON white
//     space may separate them. The first text is streamed; each later text
//     is held in memory while it is converted (in practice, one Feature).
//
// A leading UTF-8 byte order mark is ignored. Members may come in any
// order, except that a FeatureCollection's "crs" must precede "features"
// (see below). Member names are case-sensitive as in RFC 7946; "bbox" and
// foreign members are ignored. Elements of a features array must be
// Features.
//
// # Coordinates and CRS
//
// Coordinates are converted to longitude/latitude with, in order of
// precedence: Options.CRS; the "crs" member of the geometry, the Feature or
// the FeatureCollection (GeoJSON 2008: {"type":"name","properties":
// {"name":"urn:ogc:def:crs:EPSG::4490"}}, or {"type":"EPSG","properties":
// {"code":4490}}, with any name crs.Lookup accepts, e.g. EPSG:4550 for
// Gauss–Krüger metres); else none: WGS 84 longitude/latitude, as RFC 7946
// requires. Because a FeatureCollection is streamed, its "crs" must come
// before "features" (as writers put it); one after "features" is an error
// unless it names EPSG:4326 or EPSG:4490 or Options.CRS is set. A linked
// CRS ("type":"link") is not supported. A collection's "crs" does not
// apply to later texts of a sequence.
//
// Positions may have more than two numbers, but features are 2D (orb): the
// first two are kept. For a Feature's Point geometry, or a bare Point, the
// third number (a height or elevation in metres, not changed by the CRS
// conversion) is stored in the property "z" (float64), replacing any "z"
// property; for every other geometry it is dropped, as are further
// numbers (M).
//
// # Features
//
// Each Feature becomes a spatial.Feature with Layer Options.Layer
// (DefaultLayer when empty) and Geometry converted from the GeoJSON
// geometry. A Feature whose geometry is null or missing is rejected with an
// error wrapping spatial.ErrInvalid: CityTwin features need a geometry. So
// is any feature that spatial.Feature.Prepare rejects (unclosed or short
// rings, coordinates outside longitude/latitude range, …). Import calls
// Prepare, so features reach the sink with their grid code set; each
// feature is a new value the sink may keep.
//
// ID is the "id" member (a string, or a number in canonical decimal form:
// 12, 12.5; other kinds are an error), else the property "id" (a non-empty
// string or a number), else the 1-based feature number ("1", "2", …,
// counting every Feature and bare geometry in input order). An empty
// string counts as absent. The property "id" stays in Properties.
//
// Properties are the "properties" object with JSON values as Go values:
// string, bool, int64 for integers that fit, float64 for other numbers,
// map[string]any and []any for nested values (whose numbers follow the
// same rule, and whose nulls are kept as nil). Top-level properties whose
// value is null are left out; a feature without properties has nil
// Properties.
//
// These properties are moved into typed fields and removed from
// Properties, so that each fact has one home:
//
//   - "height": Height in metres; a number, or a string holding a decimal
//     number optionally followed by "m" ("12.5", "12.5 m");
//   - "floors", else "building:levels", else "levels": Floors; a whole
//     number, or a string holding one (only the key used is removed);
//   - "valid_from" and "valid_to": ValidFrom and ValidTo; an RFC 3339 time
//     or a YYYY-MM-DD date (midnight UTC).
//
// A recognised property with a value of the wrong kind ("tall", 2.5
// floors, "3;4") is an error at that value rather than silently kept.
//
// # Errors
//
// Errors are *importers.Error values carrying the file name, the 1-based
// line and column of the offending byte or value, and, inside a feature
// (or a text of a sequence), its 1-based feature number. Columns count
// bytes, as Go tools do. For example:
//
//	sample.geojson:15:19: feature 4: invalid feature: buildings/4: ring 0: ring not closed (first point differs from last)
//
// Positions are computed without holding the input: the reader passing
// bytes to the decoder remembers where the newlines are, and forgets those
// before each feature once it is done, so only the decoder's look-ahead is
// tracked. JSON syntax errors point at the offending byte (encoding/json's
// own offsets are relative to the value being decoded and are not used),
// truncated input at its end, GeoJSON errors at the value concerned (the
// "type" string, the position that is not an array of numbers, the
// property), a geometry that Prepare rejects at the feature's "geometry"
// value, other Prepare errors and sink errors at the feature's opening
// brace, and CRS conversion errors at the "coordinates" value (the message
// gives the position's index and values).
//
// errors.Is matches importers.ErrFormat for input that is not GeoJSON,
// spatial.ErrInvalid for rejected features, the crs package's errors
// (crs.ErrUnknownCRS, crs.ErrOutOfRange, …), json.SyntaxError through
// errors.As, and the sink's or the reader's own error. Features before the
// error have already been delivered; Stats counts them.
//
// # Performance
//
// BenchmarkImport converts a generated collection of building polygons;
// TestConstantMemory streams 300,000 of them (over 200 MB) with the heap
// staying under a few megabytes.
package geojson
