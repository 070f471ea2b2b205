// Package cityjson imports CityJSON 2.0 (also 1.1 and 1.0) files and
// CityJSONSeq streams (.city.jsonl) as spatial features: one feature per
// city object, with a 2D footprint for the spatial index, its height, and
// the full 3D geometry kept as a property.
//
// # Input
//
// Import reads the first JSON object. If it is a "CityJSON" object and
// nothing follows, the input is a plain CityJSON file; if CityJSONFeature
// objects follow (one per line in CityJSONSeq, though line breaks are not
// required), the first object is the Seq header whose "transform",
// "metadata" and "geometry-templates" apply to every feature. A first
// object of type "CityJSONFeature" is a headerless Seq (no transform,
// coordinates as written).
//
// # Memory
//
// CityJSONSeq is read one CityJSONFeature at a time: memory is bounded by
// the largest feature (its bytes, vertices and objects), not the stream.
//
// A plain CityJSON file shares one "vertices" array among all objects, so
// memory is proportional to the vertices (24 bytes each). City objects are
// streamed one by one when "vertices", "transform" and "metadata" (or
// Options.CRS) come before "CityObjects". Most writers put CityObjects
// first; then:
//
//   - if the reader is an io.Seeker (an *os.File, bytes.Reader, …), the
//     first pass skips CityObjects in constant memory, reads the rest, and
//     a second pass seeks back and streams the objects: memory stays
//     proportional to the vertices;
//   - otherwise (a pipe, a network stream) the CityObjects member is
//     buffered as raw bytes until the end of the file: memory is then
//     proportional to the file. Put transform/metadata/vertices first, or
//     pass a seekable reader, to avoid that.
//
// Objects with a GeometryInstance seen before "geometry-templates" are
// kept (as bytes) until the templates arrive. Objects without a location
// of their own wait until the end of their document (see below), as does
// a small per-parent record of their children's footprints.
//
// # Coordinates
//
// Vertices are de-transformed (v × scale + translate, exact to well below
// 1e-4 in CRS units for every conformance case) and converted to WGS 84
// longitude/latitude:
//
//   - Options.CRS, when set, overrides whatever the file declares;
//   - else metadata.referenceSystem, in the URL form
//     "https://www.opengis.net/def/crs/EPSG/0/4549", the URN form
//     "urn:ogc:def:crs:EPSG::4549" or "EPSG:4549", through spatial/crs
//     (EPSG:4326, 4490, 3857, 4513–4554, …). EPSG:4979 and 4480 (3D
//     geographic) are treated as 4326 and 4490. Geocentric EPSG:4978 (WGS
//     84) and 4479 (CGCS2000) are converted here in closed form
//     (Vermeille 2002) to longitude, latitude and ellipsoidal height;
//   - else EPSG:4326 is assumed, and a coordinate that is not a longitude
//     and latitude fails with an error saying so.
//
// A declared system spatial/crs cannot convert (UTM, state plane, RD New,
// Xian 1980, …) fails at once with ErrUnsupportedCRS naming it, before any
// feature is emitted. Heights (z) are kept as given: metres in the
// vertical datum of the file, or ellipsoidal height for geocentric input.
//
// # Mapping
//
// Every city object becomes a *spatial.Feature with Layer Options.Layer
// (DefaultLayer when empty) and ID the city object id:
//
//   - Geometry is a 2D footprint in longitude/latitude. The geometry used
//     is the object's lowest-LoD surface geometry (surfaces win over lines
//     and points). For volumes (buildings, bridges, tunnels, furniture,
//     generic and extension objects): the GroundSurface semantic surface,
//     or the horizontal surfaces within 1 cm of the lowest point; one
//     surface gives its exact polygon with holes (exterior
//     counter-clockwise), several give their convex outline. Failing
//     that, the convex hull of all vertices (a LineString or Point if they
//     are collinear or coincide). For ground-covering types (TINRelief,
//     LandUse, PlantCover, WaterBody, Road, Railway, TransportSquare,
//     Waterway) every non-vertical surface is projected (Polygon or
//     MultiPolygon). MultiPoint and MultiLineString geometries give their
//     2D points and lines. Building addresses with a location give a
//     MultiPoint when the object has no geometry.
//   - An object without any geometry (typical of a Building whose parts
//     carry the geometry, or of BuildingStorey, BuildingUnit and
//     BuildingRoom) is emitted at the end of its document (the file, or
//     the CityJSONFeature) with, in order of preference, the footprint of
//     its children (one child: its footprint; several: their convex
//     outline), the footprint of a parent, or its geographicalExtent. If
//     none exists it is still emitted, with a nil Geometry, so that the
//     hierarchy is complete; sinks that need a location (spatial.Feature
//     Prepare rejects nil geometry) must skip those (Stats.NoGeometry
//     counts them; PropFootprint is "none").
//   - Height is the "measuredHeight" attribute when it is a non-negative
//     number, else max z − min z over all the object's geometries. Floors
//     is the "storeysAboveGround" attribute when it is a whole number.
//   - Properties: the attributes under their own names, plus PropType (the
//     CityJSON type, extension types such as "+NoiseBuilding" kept),
//     PropParents, PropChildren, PropRoles, PropLoD (highest) and PropLoDs,
//     PropGeometry (a compact JSON array of the geometries, each vertex
//     index replaced by [lon, lat, height], semantics kept, instances
//     expanded with their "template" index), PropSemantics (surface type →
//     count), PropZMin/PropZMax, PropFootprint (which rule made Geometry:
//     ground, lowest, hull, surface, surfaces, points, lines, address,
//     children, parent, extent or none), PropAddress (locations resolved
//     to coordinates), PropExtent, PropFeature (the CityJSONFeature id)
//     and, for any other member of the object, PropExtPrefix + its name.
//   - GeometryInstances are expanded: each template vertex v becomes
//     reference point + M·v (M the 4×4 transformationMatrix), then is
//     converted like any vertex.
//   - Appearance (materials, textures) is skipped; so are extension root
//     members (listed in Stats.ExtraMembers).
//
// # Errors
//
// Errors are *importers.Error with the file name, the 1-based line and
// byte column (of the offending token, or of the geometry or city object
// concerned), the 1-based ordinal of the city object in the input as
// Feature (0 outside objects), and a reason naming the object id. Format
// problems wrap importers.ErrFormat; unsupported reference systems
// ErrUnsupportedCRS; unsupported versions ErrUnsupportedVersion; errors
// from the sink are wrapped as they are. Input is never trusted: bracket
// structure, vertex indices, template references and numbers are checked
// and nothing panics (see FuzzImport).
package cityjson
