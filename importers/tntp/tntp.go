// Package tntp reads the TNTP text formats of the Transportation Networks
// for Research collection (github.com/bstabler/TransportationNetworks):
// network files (links with BPR parameters), trip tables (origin-destination
// demand) and flow files (published best-known link flows).
//
// # Format
//
// Files start with metadata lines "<KEY> value" ended by "<END OF
// METADATA>". A '~' starts a comment that runs to the end of the line.
// Network rows hold ten whitespace-separated columns — init node, term
// node, capacity, length, free-flow time, B, power, speed, toll, type —
// and end with ';'. Trip tables hold blocks "Origin N" followed by
// "dest : flow;" pairs, several to a line. Flow files have a header line
// (From To Volume Cost) and then one row per link.
//
// Every reader streams its input line by line and fails with an
// *importers.Error naming the file, the 1-based line and what is wrong;
// the cause satisfies errors.Is(err, importers.ErrFormat) for malformed
// input.
package tntp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"citytwin/importers"
)

// Link is one directed link of a network file.
type Link struct {
	From, To     int     // init and term node, 1-based
	Capacity     float64 // vehicles per period; > 0 unless B is 0
	Length       float64
	FreeFlowTime float64 // t0 of the BPR function
	B, Power     float64 // t = t0·(1 + B·(x/Capacity)^Power)
	Speed, Toll  float64
	Type         int
	Line         int // line of the row in the file
}

// Net is a network file.
type Net struct {
	Zones         int // <NUMBER OF ZONES>: nodes 1..Zones are zones
	Nodes         int // <NUMBER OF NODES>, or the largest node number when absent
	FirstThruNode int // <FIRST THRU NODE>: zones below it carry no through traffic
	Links         []Link
}

// OD is one origin–destination demand of a trip table.
type OD struct {
	Origin, Dest int
	Flow         float64
}

// Trips is a trip table. OD lists the pairs in file order, zero flows and
// all; intrazonal pairs (Origin == Dest) are kept as written.
type Trips struct {
	Zones     int     // <NUMBER OF ZONES>
	TotalFlow float64 // <TOTAL OD FLOW>, or the sum of the flows when absent
	OD        []OD
}

// Flow is one row of a flow (solution) file.
type Flow struct {
	From, To int
	Volume   float64
	Cost     float64
	Line     int
}

// maxLine bounds one line of input.
const maxLine = 1 << 20

// formatError is malformed input; it matches importers.ErrFormat.
type formatError string

func (e formatError) Error() string        { return string(e) }
func (e formatError) Is(target error) bool { return target == importers.ErrFormat }

// lineReader reads lines, strips '~' comments and counts lines.
type lineReader struct {
	sc   *bufio.Scanner
	file string
	line int
}

func newLineReader(r io.Reader, file string) *lineReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	return &lineReader{sc: sc, file: file}
}

// next returns the next line without its comment, or ok false at the end.
func (lr *lineReader) next() (line []byte, ok bool, err error) {
	if !lr.sc.Scan() {
		if err := lr.sc.Err(); err != nil {
			lr.line++
			if errors.Is(err, bufio.ErrTooLong) {
				return nil, false, lr.errorf("line longer than %d bytes", maxLine)
			}
			return nil, false, &importers.Error{File: lr.file, Line: lr.line, Err: err}
		}
		return nil, false, nil
	}
	lr.line++
	b := lr.sc.Bytes()
	if i := bytes.IndexByte(b, '~'); i >= 0 {
		b = b[:i]
	}
	return bytes.TrimSpace(b), true, nil
}

func (lr *lineReader) errorf(format string, args ...any) error {
	return &importers.Error{File: lr.file, Line: lr.line, Err: formatError(fmt.Sprintf(format, args...))}
}

// metadata reads "<KEY> value" lines up to <END OF METADATA> or the first
// line that is not metadata, which it returns as pending (nil when none).
// Keys are upper-cased.
func (lr *lineReader) metadata() (meta map[string]string, pending []byte, err error) {
	meta = map[string]string{}
	for {
		b, ok, err := lr.next()
		if err != nil || !ok {
			return meta, nil, err
		}
		if len(b) == 0 {
			continue
		}
		if b[0] != '<' {
			return meta, b, nil
		}
		end := bytes.IndexByte(b, '>')
		if end < 0 {
			return nil, nil, lr.errorf("metadata line without closing '>'")
		}
		key := strings.ToUpper(strings.Join(strings.Fields(string(b[1:end])), " "))
		if key == "END OF METADATA" {
			return meta, nil, nil
		}
		meta[key] = strings.TrimSpace(string(b[end+1:]))
	}
}

// metaInt reads an optional non-negative integer metadata value.
// body returns the next line after the metadata section: the pending one
// metadata stopped at first, then the file's; a metadata line here is an
// error.
func (lr *lineReader) body(pending *[]byte) ([]byte, bool, error) {
	b := *pending
	if b != nil {
		*pending = nil
	} else {
		var ok bool
		var err error
		if b, ok, err = lr.next(); err != nil || !ok {
			return nil, ok, err
		}
	}
	if len(b) > 0 && b[0] == '<' {
		return nil, false, lr.errorf("metadata line after the metadata section")
	}
	return b, true, nil
}

func (lr *lineReader) metaInt(meta map[string]string, key string) (int, bool, error) {
	v, ok := meta[key]
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v, ";"))
	if err != nil || n < 0 {
		return 0, false, &importers.Error{File: lr.file, Err: formatError(fmt.Sprintf("metadata <%s> %q is not a non-negative integer", key, v))}
	}
	return n, true, nil
}

// number parses a finite float column.
func (lr *lineReader) number(field []byte, what string) (float64, error) {
	v, err := strconv.ParseFloat(string(field), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, lr.errorf("%s %q is not a number", what, field)
	}
	return v, nil
}

// node parses a node number ≥ 1.
func (lr *lineReader) node(field []byte, what string) (int, error) {
	n, err := strconv.Atoi(string(field))
	if err != nil || n < 1 {
		return 0, lr.errorf("%s %q is not a node number (an integer ≥ 1)", what, field)
	}
	return n, nil
}

// netColumns names the ten columns of a network row.
var netColumns = [...]string{"init node", "term node", "capacity", "length", "free-flow time", "B", "power", "speed", "toll", "type"}

// ReadNet reads a network file. file names the input in errors.
func ReadNet(r io.Reader, file string) (*Net, error) {
	lr := newLineReader(r, file)
	meta, pending, err := lr.metadata()
	if err != nil {
		return nil, err
	}
	net := &Net{}
	var hasZones, hasNodes, hasFirst, hasLinks bool
	var nLinks int
	if net.Zones, hasZones, err = lr.metaInt(meta, "NUMBER OF ZONES"); err != nil {
		return nil, err
	}
	if net.Nodes, hasNodes, err = lr.metaInt(meta, "NUMBER OF NODES"); err != nil {
		return nil, err
	}
	if net.FirstThruNode, hasFirst, err = lr.metaInt(meta, "FIRST THRU NODE"); err != nil {
		return nil, err
	}
	if nLinks, hasLinks, err = lr.metaInt(meta, "NUMBER OF LINKS"); err != nil {
		return nil, err
	}
	if !hasFirst {
		net.FirstThruNode = 1
	}
	if hasLinks && nLinks <= 1<<20 {
		net.Links = make([]Link, 0, nLinks)
	}
	maxNode := 0
	for {
		b, ok, err := lr.body(&pending)
		if err != nil {
			return nil, err
		} else if !ok {
			break
		}
		if len(b) == 0 {
			continue
		}
		semi := bytes.IndexByte(b, ';')
		if semi >= 0 {
			if len(bytes.TrimSpace(b[semi+1:])) > 0 {
				return nil, lr.errorf("text after ';' at the end of the row")
			}
			b = b[:semi]
		}
		f := bytes.Fields(b)
		if len(f) < len(netColumns) {
			return nil, lr.errorf("missing column %s: want %d columns (%s), got %d", netColumns[len(f)], len(netColumns), strings.Join(netColumns[:], ", "), len(f))
		}
		if len(f) > len(netColumns) {
			return nil, lr.errorf("%d columns, want %d (%s)", len(f), len(netColumns), strings.Join(netColumns[:], ", "))
		}
		l := Link{Line: lr.line}
		if l.From, err = lr.node(f[0], "init node"); err != nil {
			return nil, err
		}
		if l.To, err = lr.node(f[1], "term node"); err != nil {
			return nil, err
		}
		vals := [...]*float64{&l.Capacity, &l.Length, &l.FreeFlowTime, &l.B, &l.Power, &l.Speed, &l.Toll}
		for i, p := range vals {
			if *p, err = lr.number(f[2+i], netColumns[2+i]); err != nil {
				return nil, err
			}
		}
		typ, err := lr.number(f[9], "type")
		if err != nil {
			return nil, err
		}
		if typ != math.Trunc(typ) || math.Abs(typ) > 1<<31 {
			return nil, lr.errorf("type %q is not an integer", f[9])
		}
		l.Type = int(typ)
		switch {
		case l.From == l.To:
			return nil, lr.errorf("link %d-%d is a loop", l.From, l.To)
		case hasNodes && (l.From > net.Nodes || l.To > net.Nodes):
			return nil, lr.errorf("link %d-%d goes to an unknown node: <NUMBER OF NODES> is %d", l.From, l.To, net.Nodes)
		case l.Capacity < 0:
			return nil, lr.errorf("link %d-%d: negative capacity %g", l.From, l.To, l.Capacity)
		case l.Capacity == 0 && l.B != 0:
			return nil, lr.errorf("link %d-%d: zero capacity with B %g", l.From, l.To, l.B)
		case l.FreeFlowTime < 0:
			return nil, lr.errorf("link %d-%d: negative free-flow time %g", l.From, l.To, l.FreeFlowTime)
		case l.B < 0:
			return nil, lr.errorf("link %d-%d: negative B %g", l.From, l.To, l.B)
		case l.Power < 0:
			return nil, lr.errorf("link %d-%d: negative power %g", l.From, l.To, l.Power)
		case l.Length < 0:
			return nil, lr.errorf("link %d-%d: negative length %g", l.From, l.To, l.Length)
		}
		maxNode = max(maxNode, l.From, l.To)
		net.Links = append(net.Links, l)
	}
	if hasLinks && nLinks != len(net.Links) {
		return nil, &importers.Error{File: file, Line: lr.line, Err: formatError(fmt.Sprintf("<NUMBER OF LINKS> is %d but the file has %d link rows", nLinks, len(net.Links)))}
	}
	if !hasNodes {
		net.Nodes = maxNode
	}
	if !hasZones {
		net.Zones = net.Nodes
	}
	if net.Zones > net.Nodes {
		return nil, &importers.Error{File: file, Err: formatError(fmt.Sprintf("<NUMBER OF ZONES> %d exceeds <NUMBER OF NODES> %d", net.Zones, net.Nodes))}
	}
	return net, nil
}

// ReadTrips reads a trip table. file names the input in errors.
func ReadTrips(r io.Reader, file string) (*Trips, error) {
	lr := newLineReader(r, file)
	meta, pending, err := lr.metadata()
	if err != nil {
		return nil, err
	}
	tr := &Trips{}
	hasZones := false
	if tr.Zones, hasZones, err = lr.metaInt(meta, "NUMBER OF ZONES"); err != nil {
		return nil, err
	}
	total, hasTotal := 0.0, false
	if v, ok := meta["TOTAL OD FLOW"]; ok {
		total, err = strconv.ParseFloat(strings.TrimSuffix(v, ";"), 64)
		if err != nil || math.IsNaN(total) || math.IsInf(total, 0) || total < 0 {
			return nil, &importers.Error{File: file, Err: formatError(fmt.Sprintf("metadata <TOTAL OD FLOW> %q is not a non-negative number", v))}
		}
		hasTotal = true
	}
	origin, sum := 0, 0.0
	seen := map[[2]int]bool{}
	for {
		b, ok, err := lr.body(&pending)
		if err != nil {
			return nil, err
		} else if !ok {
			break
		}
		if len(b) == 0 {
			continue
		}
		if f := bytes.Fields(b); len(f) > 0 && strings.EqualFold(string(f[0]), "origin") {
			if len(f) != 2 {
				return nil, lr.errorf("want \"Origin N\"")
			}
			if origin, err = lr.node(f[1], "origin"); err != nil {
				return nil, err
			}
			if hasZones && origin > tr.Zones {
				return nil, lr.errorf("origin %d is not a zone: <NUMBER OF ZONES> is %d", origin, tr.Zones)
			}
			continue
		}
		if origin == 0 {
			return nil, lr.errorf("demand before the first \"Origin N\" line")
		}
		for len(b) > 0 {
			var pair []byte
			if i := bytes.IndexByte(b, ';'); i >= 0 {
				pair, b = b[:i], bytes.TrimSpace(b[i+1:])
			} else {
				pair, b = b, nil
			}
			pair = bytes.TrimSpace(pair)
			if len(pair) == 0 {
				continue
			}
			colon := bytes.IndexByte(pair, ':')
			if colon < 0 {
				return nil, lr.errorf("want \"dest : flow;\", got %q", pair)
			}
			dest, err := lr.node(bytes.TrimSpace(pair[:colon]), "destination")
			if err != nil {
				return nil, err
			}
			if hasZones && dest > tr.Zones {
				return nil, lr.errorf("destination %d is not a zone: <NUMBER OF ZONES> is %d", dest, tr.Zones)
			}
			flow, err := lr.number(bytes.TrimSpace(pair[colon+1:]), fmt.Sprintf("flow %d→%d", origin, dest))
			if err != nil {
				return nil, err
			}
			if flow < 0 {
				return nil, lr.errorf("negative flow %g from %d to %d", flow, origin, dest)
			}
			if seen[[2]int{origin, dest}] {
				return nil, lr.errorf("second flow from %d to %d", origin, dest)
			}
			seen[[2]int{origin, dest}] = true
			sum += flow
			tr.OD = append(tr.OD, OD{Origin: origin, Dest: dest, Flow: flow})
		}
	}
	if hasTotal && math.Abs(sum-total) > 1e-6*max(1, total) {
		return nil, &importers.Error{File: file, Line: lr.line, Err: formatError(fmt.Sprintf("<TOTAL OD FLOW> is %g but the flows add up to %g", total, sum))}
	}
	if !hasTotal {
		total = sum
	}
	tr.TotalFlow = total
	return tr, nil
}

// ReadFlows reads a flow file: an optional header line and then rows
// "from to volume cost" (an ending ';' is allowed).
func ReadFlows(r io.Reader, file string) ([]Flow, error) {
	lr := newLineReader(r, file)
	var out []Flow
	header := false
	for {
		b, ok, err := lr.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if i := bytes.IndexByte(b, ';'); i >= 0 {
			b = b[:i]
		}
		f := bytes.Fields(b)
		if len(f) == 0 {
			continue
		}
		if len(out) == 0 && !header {
			if _, err := strconv.Atoi(string(f[0])); err != nil {
				header = true // "From To Volume Cost"
				continue
			}
		}
		if len(f) != 4 {
			return nil, lr.errorf("want 4 columns (from, to, volume, cost), got %d", len(f))
		}
		row := Flow{Line: lr.line}
		if row.From, err = lr.node(f[0], "from node"); err != nil {
			return nil, err
		}
		if row.To, err = lr.node(f[1], "to node"); err != nil {
			return nil, err
		}
		if row.Volume, err = lr.number(f[2], "volume"); err != nil {
			return nil, err
		}
		if row.Cost, err = lr.number(f[3], "cost"); err != nil {
			return nil, err
		}
		if row.Volume < 0 {
			return nil, lr.errorf("negative volume %g on %d-%d", row.Volume, row.From, row.To)
		}
		out = append(out, row)
	}
	return out, nil
}

// open runs read on the named file.
func open[T any](name string, read func(io.Reader, string) (T, error)) (T, error) {
	f, err := os.Open(name)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	return read(bufio.NewReaderSize(f, 64<<10), name)
}

// ReadNetFile reads the named network file.
func ReadNetFile(name string) (*Net, error) { return open(name, ReadNet) }

// ReadTripsFile reads the named trip table.
func ReadTripsFile(name string) (*Trips, error) { return open(name, ReadTrips) }

// ReadFlowsFile reads the named flow file.
func ReadFlowsFile(name string) ([]Flow, error) { return open(name, ReadFlows) }
