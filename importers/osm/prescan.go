package osm

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// prescan is the first pass over a seekable input: it returns the ids of
// the ways that the multipolygon and boundary relations this importer
// emits are made of, so the main pass keeps only their node lists.
//
// OSM files list relations last, so the pass first looks for the bytes
// "<relation" and decodes only from there (in a planet-style file that is
// the last few percent). Should that guess land somewhere odd (the text
// inside a comment, say) and the decoder fail, it decodes the whole input
// instead. Malformed XML is not reported here: the main pass reports it
// with its position. Only read and seek errors are returned.
func prescan(rs io.ReadSeeker, start int64) (*idSet, error) {
	off, found, err := findRelations(rs)
	if err != nil {
		return nil, err
	}
	want := &idSet{}
	if !found {
		return want, nil
	}
	if _, err := rs.Seek(start+off, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek to relations: %w", err)
	}
	if err := scanRelations(rs, want); err != nil {
		var syn *xml.SyntaxError
		if !errors.As(err, &syn) {
			return nil, err
		}
		want = &idSet{}
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return nil, fmt.Errorf("seek to start: %w", err)
		}
		if err := scanRelations(rs, want); err != nil && !errors.As(err, &syn) {
			return nil, err
		}
	}
	want.seal()
	return want, nil
}

// relationTag opens a relation element.
const relationTag = "<relation"

// findRelations returns the offset, from the reader's current position, of
// the first "<relation" start tag.
func findRelations(r io.Reader) (int64, bool, error) {
	const chunk = 1 << 20
	pattern := []byte(relationTag)
	buf := make([]byte, chunk+len(relationTag))
	var base int64 // offset of buf[0]
	keep := 0      // bytes carried over from the previous chunk
	for {
		n, err := io.ReadFull(r, buf[keep:])
		data := buf[:keep+n]
		from := 0
		for {
			i := bytes.Index(data[from:], pattern)
			if i < 0 {
				break
			}
			at := from + i
			end := at + len(relationTag)
			if end == len(data) && err == nil {
				break // cannot see the next byte yet
			}
			if end == len(data) || isTagEnd(data[end]) {
				return base + int64(at), true, nil
			}
			from = at + 1
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("read: %w", err)
		}
		keep = len(relationTag)
		copy(buf, data[len(data)-keep:])
		base += int64(len(data) - keep)
	}
}

func isTagEnd(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '>' || c == '/'
}

// scanRelations decodes relations from r, without checking that start and
// end tags match, and adds the member ways of those that will be emitted
// to want. It stops at the end of input or at an end tag that closes more
// than it opened (the </osm> after the relations).
func scanRelations(r io.Reader, want *idSet) error {
	d := xml.NewDecoder(bufio.NewReaderSize(r, 256<<10))
	depth := 0
	inRel := false
	var tags tagList
	var ways []int64
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch t.Name.Local {
			case "relation":
				inRel, tags, ways = true, tags[:0], ways[:0]
			case "tag":
				if inRel {
					var k, v string
					for _, a := range t.Attr {
						switch a.Name.Local {
						case "k":
							k = a.Value
						case "v":
							v = a.Value
						}
					}
					tags = append(tags, tag{k, v})
				}
			case "member":
				if inRel {
					isWay, ref, ok := false, int64(0), false
					for _, a := range t.Attr {
						switch a.Name.Local {
						case "type":
							isWay = a.Value == "way"
						case "ref":
							var err error
							ref, err = strconv.ParseInt(a.Value, 10, 64)
							ok = err == nil
						}
					}
					if isWay && ok {
						ways = append(ways, ref)
					}
				}
			}
		case xml.EndElement:
			depth--
			if t.Name.Local == "relation" && inRel {
				inRel = false
				if classifyRelation(tags) != "" {
					for _, w := range ways {
						want.add(w)
					}
				}
			}
			if depth < 0 {
				return nil
			}
		}
	}
}
