package fence

import (
	"time"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// Roaming fences. A roaming fence pairs objects of side A (roam.layer and
// roam.filters) with objects of side B (roam.near) within roam.meters. The
// engine keeps the set of pairs in range; enter fires when a pair comes
// into range and exit when it leaves it, whichever of the two moved: an
// update of an A object looks for B objects around it through the Finder,
// and an update of a B object looks for A objects. A pair also exits when
// either object stops matching its side's layer or filters, or is
// forgotten. When both sides select the same objects (same layer, same
// filters) a pair is unordered and raises one event, with the updated
// object as Event.Object.

type roaming struct {
	aLayer    string
	aFilters  []spatial.Filter
	bLayer    string
	bFilters  []spatial.Filter
	meters    float64
	symmetric bool
	pairs     map[pairKey]*pair
}

// pairKey is (A object, B object); for a symmetric fence (smaller ID,
// larger ID).
type pairKey struct{ a, b string }

// pair is a pair in range, with both objects' last known states (without
// properties).
type pair struct {
	a, b ObjectRef
	seen uint64
}

// pairRef links an object to a pair it belongs to.
type pairRef struct {
	f   *fence
	key pairKey
}

// nearCtx is the state of one Finder walk.
type nearCtx struct {
	cur     *Object
	p       orb.Point
	meters  float64
	layer   string
	filters []spatial.Filter
}

type foundObj struct {
	o Object
	d float64
}

func (r *roaming) key(cur, other string, sideA bool) pairKey {
	switch {
	case r.symmetric:
		if other < cur {
			return pairKey{other, cur}
		}
		return pairKey{cur, other}
	case sideA:
		return pairKey{cur, other}
	}
	return pairKey{other, cur}
}

// onSide reports whether id is the side-A (sideA) or side-B object of k.
func (r *roaming) onSide(k pairKey, id string, sideA bool) bool {
	if r.symmetric {
		return k.a == id || k.b == id
	}
	if sideA {
		return k.a == id
	}
	return k.b == id
}

func (e *Engine) updateRoaming(rs []*fence, cur *Object, evs []Event) []Event {
	for _, f := range rs {
		r := f.roam
		if cur.Layer == r.aLayer {
			evs = e.roamSide(f, cur, true, evs)
		}
		if cur.Layer == r.bLayer && !r.symmetric {
			evs = e.roamSide(f, cur, false, evs)
		}
	}
	return evs
}

// roamSide re-evaluates the pairs of cur on one side of a roaming fence.
func (e *Engine) roamSide(f *fence, cur *Object, sideA bool, evs []Event) []Event {
	r := f.roam
	mine, other, otherLayer := r.aFilters, r.bFilters, r.bLayer
	if !sideA {
		mine, other, otherLayer = r.bFilters, r.aFilters, r.aLayer
	}
	e.found = e.found[:0]
	if matches(mine, cur, &e.props) {
		p := cur.point()
		e.nearCtx = nearCtx{cur: cur, p: p, meters: r.meters, layer: otherLayer, filters: other}
		e.finder.Near(otherLayer, nearBound(p, r.meters), e.nearFn)
		e.nearCtx = nearCtx{}
	}
	for i := range e.found {
		fo := &e.found[i]
		k := r.key(cur.ID, fo.o.ID, sideA)
		pr := r.pairs[k]
		isNew := pr == nil
		if isNew {
			pr = &pair{}
			r.pairs[k] = pr
			e.state(cur.ID).pairs = append(e.state(cur.ID).pairs, pairRef{f, k})
			e.state(fo.o.ID).pairs = append(e.state(fo.o.ID).pairs, pairRef{f, k})
		}
		pr.seen = e.epoch
		cr, or := ObjectRef{ID: cur.ID, Layer: cur.Layer, Lon: cur.Lon, Lat: cur.Lat, Time: cur.Time},
			ObjectRef{ID: fo.o.ID, Layer: fo.o.Layer, Lon: fo.o.Lon, Lat: fo.o.Lat, Time: fo.o.Time}
		if k.a == cur.ID {
			pr.a, pr.b = cr, or
		} else {
			pr.a, pr.b = or, cr
		}
		if isNew && f.detect&flagEnter != 0 {
			me, them := refOf(cur), refOf(&fo.o)
			if sideA || r.symmetric {
				evs = append(evs, e.roamEvent(f, TypeEnter, me, them, fo.d, e.timeOf(cur)))
			} else {
				evs = append(evs, e.roamEvent(f, TypeEnter, them, me, fo.d, e.timeOf(cur)))
			}
		}
	}
	clear(e.found)
	e.found = e.found[:0]
	// Pairs of cur on this side that were not found again have left range.
	if st := e.objs[cur.ID]; st != nil {
		for i := len(st.pairs) - 1; i >= 0; i-- {
			if i >= len(st.pairs) {
				continue
			}
			ref := st.pairs[i]
			if ref.f != f || !r.onSide(ref.key, cur.ID, sideA) || r.pairs[ref.key].seen == e.epoch {
				continue
			}
			evs = e.exitPair(f, ref.key, cur, evs)
		}
	}
	return evs
}

// nearVisit is the Finder callback: it keeps objects of the other side
// within range.
func (e *Engine) nearVisit(o Object) bool {
	c := &e.nearCtx
	if c.cur == nil || o.ID == c.cur.ID {
		return true
	}
	if o.Layer == "" {
		o.Layer = c.layer
	}
	d := spatial.GeodesicDistance(c.p, o.point())
	if d > c.meters {
		return true
	}
	if len(c.filters) > 0 {
		e.oprops.reset(o.Props)
		if !matches(c.filters, &o, &e.oprops) {
			return true
		}
	}
	e.found = append(e.found, foundObj{o: o, d: d})
	return true
}

// dropStalePairs exits the pairs of an object that sits on a side whose
// layer it no longer has.
func (e *Engine) dropStalePairs(st *objState, cur *Object, evs []Event) []Event {
	for i := len(st.pairs) - 1; i >= 0; i-- {
		if i >= len(st.pairs) {
			continue
		}
		ref := st.pairs[i]
		r := ref.f.roam
		if ref.key.a == cur.ID && cur.Layer != r.aLayer || ref.key.b == cur.ID && cur.Layer != r.bLayer {
			evs = e.exitPair(ref.f, ref.key, cur, evs)
		}
	}
	return evs
}

// exitPair removes a pair and raises its exit event; cur is the object
// whose update (or deletion) ended it.
func (e *Engine) exitPair(f *fence, k pairKey, cur *Object, evs []Event) []Event {
	r := f.roam
	pr := r.pairs[k]
	if pr == nil {
		return evs
	}
	e.unlinkPair(f, k)
	delete(r.pairs, k)
	if f.detect&flagExit == 0 {
		return evs
	}
	a, b := pr.a, pr.b
	me := refOf(cur)
	if k.a == cur.ID {
		a = me
	} else {
		b = me
	}
	d := spatial.GeodesicDistance(orb.Point{a.Lon, a.Lat}, orb.Point{b.Lon, b.Lat})
	if r.symmetric && k.a != cur.ID {
		a, b = b, a
	}
	return append(evs, e.roamEvent(f, TypeExit, a, b, d, e.timeOf(cur)))
}

// unlinkPair removes a pair's references from both objects' states,
// dropping states left empty (except the object being updated, whose
// state Update tidies at the end).
func (e *Engine) unlinkPair(f *fence, k pairKey) {
	for _, id := range [2]string{k.a, k.b} {
		st := e.objs[id]
		if st == nil {
			continue
		}
		for i, ref := range st.pairs {
			if ref.f == f && ref.key == k {
				st.pairs = append(st.pairs[:i], st.pairs[i+1:]...)
				break
			}
		}
		if st.empty() && id != e.updating {
			delete(e.objs, id)
		}
	}
}

func (e *Engine) roamEvent(f *fence, typ string, obj, near ObjectRef, d float64, t time.Time) Event {
	return Event{Op: "event", Type: typ, Fence: f.def.ID, Name: f.def.Name, Object: obj, Near: &near, Meters: &d, Time: t, Webhook: f.def.Webhook}
}
