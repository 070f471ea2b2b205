// Package csvimport imports CSV files of points (longitude/latitude
// columns) or of any geometry (a WKT column) into CityTwin features,
// streaming row by row with encoding/csv in memory that does not grow with
// the file.
//
// # Format
//
// The first record is the header. The separator is ',', ';' or tab,
// whichever occurs most often outside quotes in the header line (',' on a
// tie or when none does); Config.Comma forces one. A UTF-8 byte order mark
// is skipped. Fields may be quoted ("a, b", "say ""hi""", line breaks
// inside quotes); empty lines are skipped; every row must have as many
// fields as the header. Header names are trimmed; a column with an empty
// name (as after a trailing separator) is ignored; duplicate names
// (ignoring case) are an error.
//
// # Columns
//
// Header names are matched case-insensitively, in this order of
// preference:
//
//   - geometry: a WKT column "wkt", "geometry" or "geom"; else a longitude
//     column "lon", "lng", "long", "longitude", "x" or "经度" and a latitude
//     column "lat", "latitude", "y" or "纬度". When a WKT column exists,
//     longitude/latitude columns are ordinary properties. Config.WKT, or
//     Config.Lon and Config.Lat, choose the columns explicitly (Config.WKT
//     wins when both are set); Stats reports the columns used;
//   - id: "id", "fid" or "code" (Config.ID), trimmed and kept as text
//     ("007" stays "007"); when the column is absent or the field empty, the
//     ID is the 1-based data row number ("1" for the first row after the
//     header);
//   - every other column is a property named as in the header.
//
// The geometry and id columns are not repeated in Properties.
//
// # Values
//
// Property fields are typed by their text: int64 for integers ("42",
// "-3"), float64 for other decimal numbers ("2.5", "1e3"), bool for "true"
// and "false" in any case, else the string unchanged. An empty or
// all-space field is left out. Numbers that look like codes stay strings:
// a leading zero ("0411", "007"), a plus sign ("+86"), thousands
// separators, NaN/Inf, hexadecimal, and integers beyond int64.
//
// As in the GeoJSON importer, the columns "height" (metres: a number or
// "12.5 m"), "floors" else "building:levels" else "levels" (a whole
// number), "valid_from" and "valid_to" (RFC 3339 or YYYY-MM-DD) are moved
// into the feature's typed fields and left out of Properties; a bad value
// is an error.
//
// Longitude/latitude fields must be decimal numbers. WKT is parsed with
// github.com/paulmach/orb/encoding/wkt after a check-and-rewrite pass (see
// parseWKT) so that all these work: POINT, LINESTRING, POLYGON (with
// holes), MULTIPOINT (with or without parentheses round the points),
// MULTILINESTRING, MULTIPOLYGON, GEOMETRYCOLLECTION; any case; Z, M and ZM
// coordinates, whose extra numbers are dropped (features are 2D); and an
// EWKT "SRID=n;" prefix. EMPTY geometries are rejected.
//
// # Coordinates
//
// Coordinates are converted to longitude/latitude with Options.CRS, else
// with the EWKT SRID of the field (EPSG:n), else taken as WGS 84
// longitude/latitude. Features go to Options.Layer (DefaultLayer when
// empty) and are checked with spatial.Feature.Prepare, which also sets
// their grid code; each is a new value the sink may keep, sharing no
// memory with the input.
//
// # Errors
//
// Errors are *importers.Error values with the file name, the line and the
// 1-based byte column of the field at fault (where the field starts, its
// opening quote for a quoted one; encoding/csv's own position for
// malformed quoting and wrong field counts), the data row number as
// Feature, and a message naming the column:
//
//	points.csv:12:19: feature 11: column "lat": "38.9N" is not a number
//
// Input that is not valid for the format wraps importers.ErrFormat;
// Prepare errors wrap spatial.ErrInvalid; CRS errors wrap the crs
// package's errors; sink errors are wrapped as they are.
package csvimport
