// Package osm imports OpenStreetMap XML (.osm) files: buildings, roads,
// railways, water, coastline, land use and other areas, boundaries and
// points of interest, as spatial.Features in longitude/latitude (WGS 84).
//
// # Streaming
//
// The input is read with encoding/xml Decoder tokens, element by element.
// Nodes are stored (see Memory) because ways refer to them; each way is
// turned into a feature as soon as its end tag is read, each relation too.
// Nothing else of the file is held. OSM files list nodes, then ways, then
// relations, each sorted by id; a way read before its nodes, or a relation
// before its ways, sees them as missing.
//
// # Passes
//
// Multipolygon and boundary relations come after the ways they are made
// of, so the node lists of those ways must be kept until then. When the
// input is an io.ReadSeeker (the CLI passes *os.File) Import reads it
// twice: a first pass looks for the first "<relation" with a plain byte
// search, decodes the relations from there on (the last few percent of a
// file), and collects the ids of the member ways of the relations that
// will become features; the main pass keeps the node lists of those ways
// only. The first pass costs a byte scan of the file plus the decoding of
// its relations. Any other io.Reader is read once and the node lists of
// all ways are kept. Importer.SinglePass forces one pass.
//
// # Memory
//
// Node coordinates are int32 fixed point in 1e-7 degree, as OSM stores
// them, so they are exact. Nodes in ascending id order (as in OSM files)
// go into blocks of 8,192: a uint32 offset from the block's first id and
// two int32 per node, 12 bytes per node with no per-node pointer; a lookup
// is two binary searches. Measured: 12.5 bytes of live heap per node for
// 1,000,000 nodes. Nodes out of id order (JOSM's negative ids, merged
// files) go to a map at about 40 bytes per node.
//
// Kept way node lists are delta-encoded varints (1-3 bytes per reference
// for ways of nearby nodes) plus about 40 bytes of index per way: measured
// 54 bytes per 10-node way. In one pass over 1,000,000 nodes and 100,000
// ways every list is kept and the live heap ends at 17.4 bytes per node.
//
// # Layers
//
// Feature.Layer is one of the Layer* base names, prefixed as
// importers.Options.Layer + "_" when that is set (LayerName).
// Feature.ID is "n" (node), "w" (way) or "r" (relation) and the OSM id,
// e.g. "w123". Which tags lead where:
//
//   - buildings: closed ways and multipolygons with building=* (not "no");
//     building_parts: building:part=* (kept apart so that volumes are not
//     counted twice).
//   - roads: highway=* ways as LineStrings (a closed one too, such as a
//     roundabout), except highway=* area=yes, which is an area.
//   - railways: railway=rail, subway, tram, light_rail … ways.
//   - water: natural=water, waterway=riverbank or dock, landuse=reservoir
//     or basin areas; waterway=river, stream, canal, drain, ditch lines.
//   - coastline: natural=coastline ways as LineStrings in their mapped
//     direction (land on the left), closed or not; MergeCoastlines joins
//     them into rings.
//   - landuse: other landuse=* areas.
//   - areas: closed ways and multipolygons with amenity, leisure, tourism,
//     shop, office, craft, historic, military, place, sport, healthcare,
//     natural (areal values), man_made (areal values), aeroway (areal
//     values), power plants and substations, platforms, highway with
//     area=yes, or area=yes with any other tag.
//   - boundaries: type=boundary relations and multipolygons with
//     boundary=* and no other area tag.
//   - pois: nodes with amenity, shop, tourism, leisure, office, craft,
//     healthcare, historic, emergency, aeroway, place, sport, man_made or
//     natural, or railway=station, halt, tram_stop, subway_entrance,
//     highway=bus_stop, traffic_signals, public_transport=station,
//     stop_position, platform.
//
// Other elements (untagged ways, fences, power lines, route relations …)
// are read but give no feature. Elements with visible="false" or JOSM's
// action="delete" are ignored.
//
// # Properties, height and floors
//
// Properties hold every tag of the element as text, except the keys that
// are normalised to typed values (see properties in tags.go):
// height and min_height in metres (ParseLength: "12", "12 m", "12.5m",
// "40 ft", 12'6"), building:levels as "levels", lanes and layer as int,
// oneway as true/false/"reverse", maxspeed in km/h (ParseSpeed: "50",
// "30 mph"), bridge and tunnel as bool. A value that does not parse is
// kept as text under key + "_raw" with a WarnBadTag warning.
//
// Feature.Height is the height tag in metres; for buildings and building
// parts without one it is building:levels × MetresPerLevel (3 m), roof
// levels not included; else 0. Feature.Floors is building:levels rounded
// up, for buildings and building parts only.
//
// # Geometry
//
// Areas are Polygons (closed ways) or Polygons and MultiPolygons
// (relations) with the outer rings counter-clockwise and the inner rings
// clockwise, as RFC 7946 wants. Repeated consecutive points are dropped.
// Multipolygon and boundary relations are assembled from their outer
// (or empty role) and inner member ways: ways are joined end to end by
// node id, in any order and either direction, into closed rings; a loop
// that closes on a node passed before is cut off as a ring of its own
// (touching rings); each inner ring goes to the smallest outer ring that
// contains it.
//
// # Warnings and errors
//
// A broken element does not stop the import: it is skipped or degraded,
// counted in Stats and reported as a Warning naming the element, its
// line and what was done (see the Warn* kinds). In particular a relation
// whose rings do not close, whose member ways or nodes are missing, is
// skipped with a warning; an inner ring outside every outer is dropped; a
// line with missing nodes keeps the runs of 2 or more nodes that remain
// (a MultiLineString when the gap is inside), an area with missing nodes
// is skipped. Stats.Warnings keeps the first Importer.MaxWarnings;
// Importer.OnWarning sees them all.
//
// Import fails with an *importers.Error for input that is not
// well-formed XML or not OSM XML (wrapping importers.ErrFormat, with the
// line and column from xml.Decoder.InputPos and the element being read),
// for read errors and for sink errors (with the element's line and the
// feature number).
//
// # Speed
//
// encoding/xml bounds the speed: the import takes 1.2-1.4 times as long
// as tokenizing the input alone (BenchmarkXMLFloor). On the generated file
// of BenchmarkImport (200,000 nodes with version and timestamp
// attributes, 20,000 ways, 14 MB), on a shared 2-CPU machine at light
// load, tokenizing ran at about 33 MB/s and the import at about 25 MB/s:
// about 200,000 nodes and 20,000 ways per second. The first pass of a
// seekable input adds no measurable time.
package osm
