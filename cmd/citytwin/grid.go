package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"citytwin/gridcode"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// runGrid dispatches the grid sub-commands.
func runGrid(args []string, e env) error {
	if len(args) == 0 {
		return fmt.Errorf("want a sub-command: encode, decode or cover")
	}
	switch args[0] {
	case "encode":
		return gridEncode(args[1:], e)
	case "decode":
		return gridDecode(args[1:], e)
	case "cover":
		return gridCover(args[1:], e)
	}
	return fmt.Errorf("unknown sub-command %q: want encode, decode or cover", args[0])
}

// point is one input to encode.
type point struct {
	lat, lon, height float64
	t                time.Time
}

// encoder appends the code of a point to dst.
type encoder func(dst []byte, p point) ([]byte, error)

// newEncoder returns the encoder for a scheme and level: GeoSOT 2D appends
// its text without allocating; the other schemes go through
// gridcode.Locate.
func newEncoder(scheme string, level, timeLevel int) (encoder, error) {
	lo, hi, ok := gridcode.LevelRange(scheme)
	if !ok {
		return nil, fmt.Errorf("unknown --scheme %q: want %s", scheme, strings.Join(gridcode.Schemes(), ", "))
	}
	if level < lo || level > hi {
		return nil, fmt.Errorf("--level %d out of range for %s: want %d–%d", level, scheme, lo, hi)
	}
	if timeLevel < 0 || timeLevel > gridcode.MaxTimeLevel {
		return nil, fmt.Errorf("--time-level %d out of range: want 0–%d", timeLevel, gridcode.MaxTimeLevel)
	}
	if scheme == "geosot" {
		return func(dst []byte, p point) ([]byte, error) {
			c, err := gridcode.Encode(p.lat, p.lon, level)
			if err != nil {
				return dst, err
			}
			return c.AppendText(dst), nil
		}, nil
	}
	return func(dst []byte, p point) ([]byte, error) {
		s, err := gridcode.Locate(scheme, p.lat, p.lon, p.height, p.t, level, timeLevel)
		if err != nil {
			return dst, err
		}
		return append(dst, s...), nil
	}, nil
}

func gridEncode(args []string, e env) error {
	fs := flag.NewFlagSet("grid encode", flag.ContinueOnError)
	lat := fs.String("lat", "", "latitude: decimal degrees or DMS such as 38°54'57.6\"N")
	lon := fs.String("lon", "", "longitude: decimal degrees or DMS")
	height := fs.Float64("height", 0, "height in metres above the ellipsoid")
	at := fs.String("time", "", "time, RFC 3339")
	level := fs.Int("level", -1, "level (GeoSOT 0–32, BeiDou 1–10, H3 0–15, time 0–48)")
	timeLevel := fs.Int("time-level", gridcode.MaxTimeLevel, "time level for --scheme spacetime")
	scheme := fs.String("scheme", "geosot", "geosot, geosot3d, beidou, beidou3d, h3, spacetime or time")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if *level < 0 {
		return fmt.Errorf("--level is required")
	}
	enc, err := newEncoder(*scheme, *level, *timeLevel)
	if err != nil {
		return err
	}
	if *lat == "" && *lon == "" {
		return encodeStream(enc, *height, e)
	}
	if *lat == "" || *lon == "" {
		return fmt.Errorf("give both --lat and --lon, or neither to read points from standard input")
	}
	p := point{height: *height}
	if p.lat, err = gridcode.ParseAngle(*lat); err != nil {
		return fmt.Errorf("--lat: %w", err)
	}
	if p.lon, err = gridcode.ParseAngle(*lon); err != nil {
		return fmt.Errorf("--lon: %w", err)
	}
	if *at != "" {
		if p.t, err = time.Parse(time.RFC3339Nano, *at); err != nil {
			return fmt.Errorf("--time: want RFC 3339 such as 2026-07-21T09:15:00+08:00: %w", err)
		}
	}
	out, err := enc(nil, p)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", out)
	return err
}

// encodeStream encodes one "LAT, LON[, HEIGHT[, TIME]]" line of standard
// input per output line, in constant memory. An empty line gives an empty
// line so that output lines stay aligned with input lines.
func encodeStream(enc encoder, defaultHeight float64, e env) error {
	in := bufio.NewReaderSize(e.stdin, 1<<16)
	out := bufio.NewWriterSize(e.stdout, 1<<16)
	var buf []byte
	for n := 1; ; n++ {
		line, err := in.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return fmt.Errorf("line %d: longer than %d bytes", n, in.Size())
		}
		if len(line) == 0 && err != nil {
			break
		}
		buf = buf[:0]
		if t := bytes.TrimSpace(line); len(t) > 0 {
			p, perr := parsePointLine(t, defaultHeight)
			if perr != nil {
				return fmt.Errorf("line %d: %w", n, perr)
			}
			if buf, perr = enc(buf, p); perr != nil {
				return fmt.Errorf("line %d: %w", n, perr)
			}
		}
		buf = append(buf, '\n')
		if _, werr := out.Write(buf); werr != nil {
			return werr
		}
		if err != nil {
			break
		}
	}
	return out.Flush()
}

// parsePointLine reads "LAT, LON[, HEIGHT[, TIME]]".
func parsePointLine(line []byte, defaultHeight float64) (point, error) {
	p := point{height: defaultHeight}
	var fields [4][]byte
	n := 0
	for len(line) > 0 {
		if n == 4 {
			return p, fmt.Errorf("more than 4 fields: want LAT, LON[, HEIGHT[, TIME]]")
		}
		i := bytes.IndexByte(line, ',')
		if i < 0 {
			fields[n], line = line, nil
		} else {
			fields[n], line = line[:i], line[i+1:]
		}
		fields[n] = bytes.TrimSpace(fields[n])
		n++
	}
	if n < 2 {
		return p, fmt.Errorf("want LAT, LON[, HEIGHT[, TIME]]")
	}
	var err error
	if p.lat, err = parseAngleBytes(fields[0]); err != nil {
		return p, fmt.Errorf("latitude: %w", err)
	}
	if p.lon, err = parseAngleBytes(fields[1]); err != nil {
		return p, fmt.Errorf("longitude: %w", err)
	}
	if n > 2 && len(fields[2]) > 0 {
		if p.height, err = strconv.ParseFloat(string(fields[2]), 64); err != nil || math.IsNaN(p.height) {
			return p, fmt.Errorf("height %q is not a number of metres", fields[2])
		}
	}
	if n > 3 {
		if p.t, err = time.Parse(time.RFC3339Nano, string(fields[3])); err != nil {
			return p, fmt.Errorf("time %q is not RFC 3339", fields[3])
		}
	}
	return p, nil
}

// parseAngleBytes parses decimal degrees without allocating and falls back
// to gridcode.ParseAngle for DMS.
func parseAngleBytes(b []byte) (float64, error) {
	if v, err := strconv.ParseFloat(string(b), 64); err == nil {
		return v, nil
	}
	return gridcode.ParseAngle(string(b))
}

func gridDecode(args []string, e env) error {
	fs := flag.NewFlagSet("grid decode", flag.ContinueOnError)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("want one CODE")
	}
	d, err := gridcode.Describe(strings.TrimSpace(pos[0]))
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

func gridCover(args []string, e env) error {
	fs := flag.NewFlagSet("grid cover", flag.ContinueOnError)
	file := fs.String("geojson", "", "GeoJSON file with a Polygon or MultiPolygon (geometry, Feature or FeatureCollection)")
	level := fs.Int("level", -1, "finest GeoSOT level, 1–32")
	minLevel := fs.Int("min-level", 0, "coarsest GeoSOT level")
	maxCells := fs.Int("max-cells", 0, "at most this many cells (0: no limit)")
	ranges := fs.Bool("ranges", false, "print the inclusive code ranges (FIRST LAST, decimal) instead of the cells")
	interior := fs.Bool("interior", false, "only cells wholly inside the polygon")
	asJSON := fs.Bool("json", false, "print one JSON document")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if *file == "" || *level < 0 {
		return fmt.Errorf("--geojson FILE and --level N are required")
	}
	g, err := readPolygon(*file)
	if err != nil {
		return err
	}
	cv := gridcode.Coverer{MinLevel: *minLevel, MaxLevel: *level, MaxCells: *maxCells, Interior: *interior}
	cells, err := cv.Cover(g)
	if err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	rs := gridcode.Ranges(cells)
	out := bufio.NewWriter(e.stdout)
	if *asJSON {
		doc := struct {
			Cells  []string    `json:"cells"`
			Ranges [][2]uint64 `json:"ranges"`
		}{Cells: make([]string, len(cells)), Ranges: rs}
		for i, c := range cells {
			doc.Cells[i] = c.String()
		}
		if err := json.NewEncoder(out).Encode(doc); err != nil {
			return err
		}
		return out.Flush()
	}
	if *ranges {
		for _, r := range rs {
			fmt.Fprintf(out, "%d %d\n", r[0], r[1])
		}
	} else {
		for _, c := range cells {
			fmt.Fprintln(out, c.String())
		}
	}
	return out.Flush()
}

// readPolygon reads the polygons of a GeoJSON file into one geometry.
func readPolygon(name string) (orb.Geometry, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("%s: not JSON: %w", name, err)
	}
	var geoms []orb.Geometry
	switch head.Type {
	case "FeatureCollection":
		fc, err := geojson.UnmarshalFeatureCollection(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for _, f := range fc.Features {
			geoms = append(geoms, f.Geometry)
		}
	case "Feature":
		f, err := geojson.UnmarshalFeature(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		geoms = append(geoms, f.Geometry)
	default:
		g, err := geojson.UnmarshalGeometry(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		geoms = append(geoms, g.Geometry())
	}
	var mp orb.MultiPolygon
	for i, g := range geoms {
		switch v := g.(type) {
		case orb.Polygon:
			mp = append(mp, v)
		case orb.MultiPolygon:
			mp = append(mp, v...)
		default:
			return nil, fmt.Errorf("%s: feature %d is a %T, want Polygon or MultiPolygon", name, i, g)
		}
	}
	if len(mp) == 0 {
		return nil, fmt.Errorf("%s: no polygon", name)
	}
	if len(mp) == 1 {
		return mp[0], nil
	}
	return mp, nil
}
