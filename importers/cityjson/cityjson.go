package cityjson

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"citytwin/importers"
	"citytwin/spatial/crs"
)

// DefaultLayer is the layer used when Options.Layer is empty.
const DefaultLayer = "cityjson"

// Stats summarises an import.
type Stats struct {
	// Version is the CityJSON version the document declares ("2.0"), or ""
	// when it declares none (a headerless CityJSONSeq).
	Version string
	// Seq is true for CityJSONSeq input (CityJSONFeature objects).
	Seq bool
	// ReferenceSystem is metadata.referenceSystem as declared, or "".
	ReferenceSystem string
	// CRS is the code of the system coordinates were converted from: the
	// override in Options.CRS, the declared one, or "EPSG:4326" assumed.
	CRS string
	// Transform is the declared "transform", nil when there is none.
	Transform *Transform
	// Vertices counts the vertices read (the global array plus those of
	// every CityJSONFeature).
	Vertices int
	// Extent is the bounding box of all vertices after the transform, in
	// the input CRS: min x, y, z then max x, y, z. Zero when Vertices is 0.
	Extent [6]float64
	// CityObjects counts the city objects read; each becomes a feature.
	CityObjects int
	// Features counts the features passed to the sink.
	Features int
	// NoGeometry counts features emitted with a nil Geometry because
	// neither the object, its address, its children, its parents nor its
	// geographicalExtent gave it a location.
	NoGeometry int
	// Geometries counts geometry objects; GeometryInstances are included
	// and also counted in Instances.
	Geometries int
	// Instances counts GeometryInstances expanded from templates.
	Instances int
	// Templates counts the geometry templates the document declares.
	Templates int
	// Types counts city objects per CityJSON type.
	Types map[string]int
	// GeometryTypes counts geometries per type ("Solid", "GeometryInstance", …).
	GeometryTypes map[string]int
	// LoDs counts geometries per level of detail ("1.2", "2", …).
	LoDs map[string]int
	// Surfaces counts primitives per semantic surface type.
	Surfaces map[string]int
	// Metadata is the document's "metadata" member as decoded JSON.
	Metadata map[string]any
	// Extensions lists the names in the document's "extensions" member.
	Extensions []string
	// ExtraMembers lists root members that CityJSON does not define (such
	// as extension root properties "+census"); they are skipped.
	ExtraMembers []string
}

// Transform is CityJSON's vertex compression: real = int × Scale + Translate.
type Transform struct {
	Scale     [3]float64 `json:"scale"`
	Translate [3]float64 `json:"translate"`
}

// errNeedTemplates asks for an object to be retried once the document's
// geometry templates are known.
var errNeedTemplates = errors.New("geometry templates not yet read")

// Import reads CityJSON (1.0, 1.1, 2.0) or CityJSONSeq from r and passes
// one feature per city object to sink. See the package documentation for
// the mapping, the memory use and the errors.
func Import(r io.Reader, opts importers.Options, sink importers.Sink) (Stats, error) {
	imp := newImporter(opts, sink)
	err := imp.importFrom(r)
	return imp.stats, err
}

func newImporter(opts importers.Options, sink importers.Sink) *importer {
	imp := &importer{
		opts:  opts,
		sink:  sink,
		layer: opts.Layer,
		stats: Stats{
			Types: map[string]int{}, GeometryTypes: map[string]int{},
			LoDs: map[string]int{}, Surfaces: map[string]int{},
		},
	}
	if imp.layer == "" {
		imp.layer = DefaultLayer
	}
	if opts.CRS != nil {
		imp.conv = planarConv{c: opts.CRS}
		imp.stats.CRS = opts.CRS.Code()
	}
	return imp
}

// importFrom runs the import and returns an *importers.Error on failure.
func (imp *importer) importFrom(r io.Reader) error {
	if r == nil || imp.sink == nil {
		return &importers.Error{File: imp.opts.File, Err: errors.New("cityjson: nil reader or sink")}
	}
	imp.counter = &importers.CountingReader{R: r}
	if sk, ok := r.(io.Seeker); ok {
		if off, err := sk.Seek(0, io.SeekCurrent); err == nil {
			imp.seeker, imp.start = sk, off
		}
	}
	popts := imp.opts
	if user := imp.opts.Progress; user != nil {
		popts.Progress = func(p importers.Progress) {
			if imp.active != nil {
				p.Bytes = imp.active.offset()
			}
			user(p)
		}
	}
	imp.rep = importers.NewReporter(popts, imp.counter)
	s := newStreamScanner(imp.counter)
	imp.active = s
	err := imp.run(s)
	imp.rep.Done()
	if err != nil {
		return imp.fail(err)
	}
	return nil
}

// importer is the state of one import.
type importer struct {
	opts    importers.Options
	sink    importers.Sink
	layer   string
	stats   Stats
	rep     *importers.Reporter
	counter *importers.CountingReader
	seeker  io.Seeker
	start   int64    // seeker offset of input byte 0
	active  *scanner // stream scanner being read, for progress

	transform *Transform
	conv      converter
	templates *templateSet
	global    *vertexStore // the root document's vertices
	nobj      int          // city objects seen
	ord       int          // 1-based ordinal of the object being processed, 0 outside objects
	seqVS     *vertexStore // reused by every CityJSONFeature
	gbuf      []byte       // reused to build PropGeometry
}

// fail turns an error into an *importers.Error with position and feature.
func (imp *importer) fail(err error) error {
	var ie *importers.Error
	if errors.As(err, &ie) {
		return err
	}
	e := &importers.Error{File: imp.opts.File, Feature: imp.ord, Err: err}
	var pe *posError
	if errors.As(err, &pe) {
		e.Line, e.Column = pe.at.line, pe.at.col
	}
	return e
}

// document is one JSON object of the input: the CityJSON root (or Seq
// header) or a CityJSONFeature.
type document struct {
	root        bool
	typ, id     string
	version     string
	vs          *vertexStore
	sawVertices bool
	sawTransf   bool
	sawMeta     bool
	finished    bool       // all members read
	deferred    []deferred // CityObjects members not yet processed
	late        []lateObj  // objects waiting for geometry templates
	scope       *scope     // geometry-less objects awaiting a location
	versionAt   pos
}

// deferred is a CityObjects member kept for later: its bytes, or (seek)
// its offset in a seekable input.
type deferred struct {
	raw  []byte
	at   pos
	seek bool
}

type lateObj struct {
	id  string
	raw []byte
	at  pos
	ord int
}

// run reads the first object, then any CityJSONFeature objects after it.
func (imp *importer) run(s *scanner) error {
	s.skipBOM()
	c, ok := s.skipWS()
	if !ok {
		if s.err != nil && s.err != io.EOF {
			return s.readErr("input")
		}
		return errAt(s.pos(), "empty input: not a CityJSON document")
	}
	if c != '{' {
		return errAt(s.pos(), "not a CityJSON document: expected '{', found %s", quoteByte(c))
	}
	root := &document{root: true, vs: &vertexStore{}, scope: newScope()}
	imp.global = root.vs
	if err := imp.readDocument(s, root); err != nil {
		return err
	}
	for {
		c, ok := s.skipWS()
		if !ok {
			if s.err != nil && s.err != io.EOF {
				return s.readErr("CityJSONSeq")
			}
			return nil
		}
		if c != '{' {
			return errAt(s.pos(), "after the first object: expected a CityJSONFeature object, found %s", quoteByte(c))
		}
		raw, at, err := s.captureValue("CityJSONFeature")
		if err != nil {
			return err
		}
		// One vertex store serves every feature: constant memory per feature.
		if imp.seqVS == nil {
			imp.seqVS = &vertexStore{}
		}
		imp.seqVS.reset()
		fd := &document{vs: imp.seqVS, scope: newScope()}
		if err := imp.readDocument(newBytesScanner(raw, at), fd); err != nil {
			return err
		}
	}
}

// ready reports whether the CityObjects of the root document can be
// processed where they stand: the vertices, the transform and the CRS must
// be known.
func (imp *importer) ready(doc *document) bool {
	if !doc.root {
		// A CityJSONFeature is in memory: deferring costs nothing and
		// guarantees its "id" and vertices are known.
		return false
	}
	return doc.sawVertices && doc.sawTransf && (doc.sawMeta || imp.opts.CRS != nil) && doc.typ == "CityJSON"
}

// readDocument reads one top-level object.
func (imp *importer) readDocument(s *scanner, doc *document) error {
	start := s.pos()
	err := s.objectMembers("CityJSON object", func(key string, kat pos) error {
		switch key {
		case "type":
			t, err := s.readString("type")
			doc.typ = t
			return err
		case "id":
			id, err := s.readString("id")
			doc.id = id
			return err
		case "version":
			doc.versionAt = s.pos()
			v, err := s.readString("version")
			doc.version = v
			return err
		case "vertices":
			if doc.sawVertices {
				return errAt(kat, "duplicate \"vertices\" member")
			}
			doc.sawVertices = true
			return doc.vs.read(s)
		case "CityObjects":
			if imp.ready(doc) {
				if err := imp.prepare(doc); err != nil {
					return err
				}
				return imp.streamObjects(s, doc)
			}
			return imp.deferObjects(s, doc)
		case "appearance":
			return s.skipValue("appearance")
		}
		if !doc.root {
			return s.skipValue(key)
		}
		switch key {
		case "transform":
			raw, at, err := s.captureValue("transform")
			if err != nil {
				return err
			}
			doc.sawTransf = true
			return imp.readTransform(raw, at)
		case "metadata":
			raw, at, err := s.captureValue("metadata")
			if err != nil {
				return err
			}
			doc.sawMeta = true
			return imp.readMetadata(raw, at)
		case "geometry-templates":
			raw, at, err := s.captureValue("geometry-templates")
			if err != nil {
				return err
			}
			ts, err := readTemplates(raw, at)
			if err != nil {
				return err
			}
			imp.templates = ts
			imp.stats.Templates = len(ts.raw)
			return nil
		case "extensions":
			raw, at, err := s.captureValue("extensions")
			if err != nil {
				return err
			}
			return forMembers(raw, at, "extensions", func(name string, _ []byte, _ pos) error {
				imp.stats.Extensions = append(imp.stats.Extensions, name)
				return nil
			})
		}
		imp.stats.ExtraMembers = append(imp.stats.ExtraMembers, key)
		return s.skipValue(key)
	})
	if err != nil {
		return err
	}
	doc.finished = true
	if err := imp.checkType(doc, start); err != nil {
		return err
	}
	if err := imp.prepare(doc); err != nil {
		return err
	}
	for _, d := range doc.deferred {
		if err := imp.replay(s, doc, d); err != nil {
			return err
		}
	}
	for _, l := range doc.late {
		if err := imp.object(doc, l.id, l.raw, l.at, l.ord); err != nil {
			return err
		}
		imp.ord = 0
	}
	return imp.resolve(doc)
}

// checkType validates "type" and "version" once a document is read.
func (imp *importer) checkType(doc *document, at pos) error {
	switch doc.typ {
	case "CityJSON":
		if !doc.root {
			return errAt(at, "a CityJSON object may only come first (CityJSONSeq header); expected a CityJSONFeature")
		}
		v := doc.version
		if v != "" && !supportedVersion(v) {
			return &posError{at: doc.versionAt, err: fmt.Errorf("%w: CityJSON version %q (supported: 1.0, 1.1, 2.0)", ErrUnsupportedVersion, truncate(v, 20))}
		}
		imp.stats.Version = v
	case "CityJSONFeature":
		imp.stats.Seq = true
	case "":
		return errAt(at, "not a CityJSON document: no \"type\" member")
	default:
		return errAt(at, "not a CityJSON document: type %q (want CityJSON or CityJSONFeature)", truncate(doc.typ, 40))
	}
	return nil
}

// ErrUnsupportedVersion marks a CityJSON version this package does not read.
var ErrUnsupportedVersion = errors.New("unsupported CityJSON version")

func supportedVersion(v string) bool {
	for _, ok := range []string{"1.0", "1.1", "2.0"} {
		if v == ok || strings.HasPrefix(v, ok+".") {
			return true
		}
	}
	return false
}

// prepare settles the transform and CRS and de-transforms doc's vertices.
func (imp *importer) prepare(doc *document) error {
	if imp.conv == nil {
		c, err := crs.Lookup("EPSG:4326")
		if err != nil {
			return err
		}
		imp.conv = planarConv{c: c, assumed: true}
		imp.stats.CRS = c.Code()
	}
	if !doc.vs.transformed {
		n := doc.vs.apply(imp.transform, &imp.stats)
		imp.stats.Vertices += n
	}
	return nil
}

// readTransform decodes and checks "transform".
func (imp *importer) readTransform(raw []byte, at pos) error {
	var t Transform
	if err := decode(raw, at, "transform", &t); err != nil {
		return err
	}
	for i := 0; i < 3; i++ {
		if !finite(t.Scale[i]) || t.Scale[i] == 0 || !finite(t.Translate[i]) {
			return errAt(at, "transform: scale must be finite and non-zero and translate finite, got scale %v translate %v", t.Scale, t.Translate)
		}
	}
	if imp.global != nil && imp.global.transformed {
		return errAt(at, "transform: comes after the vertices were used")
	}
	imp.transform = &t
	imp.stats.Transform = &t
	return nil
}

// readMetadata keeps the metadata and resolves its referenceSystem.
func (imp *importer) readMetadata(raw []byte, at pos) error {
	var md map[string]any
	if err := decode(raw, at, "metadata", &md); err != nil {
		return err
	}
	imp.stats.Metadata = md
	ref, _ := md["referenceSystem"].(string)
	if v, ok := md["referenceSystem"]; ok && ref == "" && v != nil {
		return errAt(at, "metadata.referenceSystem: want a string")
	}
	imp.stats.ReferenceSystem = ref
	if imp.opts.CRS != nil || ref == "" {
		return nil
	}
	c, err := resolveCRS(ref)
	if err != nil {
		return &posError{at: at, err: fmt.Errorf("metadata.referenceSystem: %w", err)}
	}
	imp.conv = c
	imp.stats.CRS = c.code()
	return nil
}

// deferObjects keeps a CityObjects member that arrived before what it
// needs: as a slice of an in-memory document, as an offset in a seekable
// input, or else as a copy of its bytes.
func (imp *importer) deferObjects(s *scanner, doc *document) error {
	if s.r != nil && imp.seeker != nil {
		if _, ok := s.skipWS(); !ok {
			return s.readErr("CityObjects")
		}
		at := s.pos()
		if err := s.skipValue("CityObjects"); err != nil {
			return err
		}
		doc.deferred = append(doc.deferred, deferred{at: at, seek: true})
		return nil
	}
	raw, at, err := s.captureValue("CityObjects")
	if err != nil {
		return err
	}
	if s.r != nil {
		raw = bytes.Clone(raw)
	}
	doc.deferred = append(doc.deferred, deferred{raw: raw, at: at})
	return nil
}

// replay processes a deferred CityObjects member.
func (imp *importer) replay(main *scanner, doc *document, d deferred) error {
	if !d.seek {
		return imp.streamObjects(newBytesScanner(d.raw, d.at), doc)
	}
	if _, err := imp.seeker.Seek(imp.start+d.at.off, io.SeekStart); err != nil {
		return &posError{at: d.at, err: fmt.Errorf("seek back to CityObjects: %w", err)}
	}
	s := newStreamScanner(imp.counter)
	s.base, s.line, s.lineStart = d.at.off, d.at.line, d.at.off-int64(d.at.col-1)
	imp.active = s
	err := imp.streamObjects(s, doc)
	imp.active = main
	if _, serr := imp.seeker.Seek(imp.start+main.base+int64(main.n), io.SeekStart); serr != nil && err == nil {
		err = &posError{at: main.pos(), err: fmt.Errorf("seek after CityObjects: %w", serr)}
	}
	return err
}

// streamObjects reads a CityObjects member object by object.
func (imp *importer) streamObjects(s *scanner, doc *document) error {
	return s.objectMembers("CityObjects", func(id string, _ pos) error {
		imp.nobj++
		ord := imp.nobj
		raw, at, err := s.captureValue("CityObject")
		if err != nil {
			return err
		}
		if id == "" {
			return errAt(at, "CityObject with an empty id")
		}
		err = imp.object(doc, id, raw, at, ord)
		if errors.Is(err, errNeedTemplates) {
			doc.late = append(doc.late, lateObj{id: id, raw: bytes.Clone(raw), at: at, ord: ord})
			err = nil
		}
		if err == nil {
			imp.ord = 0
		}
		return err
	})
}

// vertexStore holds de-transformed vertices and converts them on use,
// caching recent conversions.
type vertexStore struct {
	v           [][3]float64
	transformed bool
	cache       [256]cacheEntry
	gen         uint32
}

type cacheEntry struct {
	gen uint32
	idx int32
	p   [3]float64
}

// reset empties the store for the next CityJSONFeature, keeping capacity.
func (vs *vertexStore) reset() {
	vs.v = vs.v[:0]
	vs.transformed = false
	vs.gen++
	if vs.gen == 0 {
		vs.cache = [256]cacheEntry{}
		vs.gen = 1
	}
}

// maxVertices bounds the vertices of one document.
const maxVertices = 1 << 31

// read parses a "vertices" array.
func (vs *vertexStore) read(s *scanner) error {
	return s.arrayElements("vertices", func(i int) error {
		if len(vs.v) >= maxVertices {
			return errAt(s.pos(), "vertices: more than %d", maxVertices)
		}
		if err := s.expect('[', "vertex"); err != nil {
			return err
		}
		var p [3]float64
		for k := 0; k < 3; k++ {
			if k > 0 {
				if err := s.expect(',', "vertex (want 3 coordinates)"); err != nil {
					return err
				}
			}
			v, at, err := s.readNumber("vertex coordinate")
			if err != nil {
				return err
			}
			if !finite(v) {
				return errAt(at, "vertex %d: coordinate is not finite", i)
			}
			p[k] = v
		}
		if err := s.expect(']', "vertex (want 3 coordinates)"); err != nil {
			return err
		}
		vs.v = append(vs.v, p)
		return nil
	})
}

// apply de-transforms the vertices once, extends the extent and returns
// the vertex count.
func (vs *vertexStore) apply(t *Transform, st *Stats) int {
	vs.transformed = true
	for i := range vs.v {
		p := &vs.v[i]
		if t != nil {
			for k := 0; k < 3; k++ {
				p[k] = p[k]*t.Scale[k] + t.Translate[k]
			}
		}
		if st.Vertices == 0 && i == 0 {
			st.Extent = [6]float64{p[0], p[1], p[2], p[0], p[1], p[2]}
			continue
		}
		for k := 0; k < 3; k++ {
			st.Extent[k] = math.Min(st.Extent[k], p[k])
			st.Extent[k+3] = math.Max(st.Extent[k+3], p[k])
		}
	}
	vs.gen++
	if vs.gen == 0 {
		vs.cache = [256]cacheEntry{}
		vs.gen = 1
	}
	return len(vs.v)
}

// res binds a vertex store to the converter.
type res struct {
	vs   *vertexStore
	conv converter
}

func (r res) sourceVertex(i int) ([3]float64, bool) {
	if i < 0 || i >= len(r.vs.v) {
		return [3]float64{}, false
	}
	return r.vs.v[i], true
}

func (r res) vertex(i int) ([3]float64, error) {
	if i < 0 || i >= len(r.vs.v) {
		return [3]float64{}, fmt.Errorf("%w: vertex index %d out of range (%d vertices)", importers.ErrFormat, i, len(r.vs.v))
	}
	e := &r.vs.cache[i&255]
	if e.gen == r.vs.gen && int(e.idx) == i {
		return e.p, nil
	}
	p, err := r.conv.toLonLatH(r.vs.v[i])
	if err != nil {
		return p, fmt.Errorf("vertex %d: %w", i, err)
	}
	*e = cacheEntry{gen: r.vs.gen, idx: int32(i), p: p}
	return p, nil
}

func (r res) convert(p [3]float64) ([3]float64, error) {
	if !finite(p[0]) || !finite(p[1]) || !finite(p[2]) {
		return p, errors.New("instance vertex is not finite")
	}
	return r.conv.toLonLatH(p)
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := lodValue(out[i]), lodValue(out[j])
		if a != b {
			return a < b
		}
		return out[i] < out[j]
	})
	return out
}
