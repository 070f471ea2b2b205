package samples

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// namer gives buildings names and unique street addresses.
type namer struct {
	d       *district
	used    map[string]int
	perUse  map[string]int
	inBlock map[*cell]int
	words   []string
}

func newNamer(d *district) *namer {
	return &namer{
		d: d, used: map[string]int{}, perUse: map[string]int{}, inBlock: map[*cell]int{},
		words: shuffled(placeWordList, len(strings.Fields(placeWordList)), rngFor(d.seed, "building-names")),
	}
}

// label returns a building's name and address. The address is on the
// nearest of the block's four streets, numbered along it every 12 m, even
// on one side and odd on the other; a repeated number gets a "-n" suffix.
func (n *namer) label(c *cell, b *building) (name, addr string) {
	d := n.d
	q := c.quad
	best, edge := math.Inf(1), 0
	for k := 0; k < 4; k++ {
		if dd := distToSegment(b.fp.c, q[k], q[k+1]); dd < best {
			best, edge = dd, k
		}
	}
	u, v := d.toUV(b.fp.c)
	var st *line
	var along float64
	var side int
	switch edge {
	case 0: // south edge: the v-line j, building on its north side
		st, along, side = &d.vs[c.j], u-d.us[0].pos, 0
	case 1:
		st, along, side = &d.us[c.i+1], v-d.vs[0].pos, 1
	case 2:
		st, along, side = &d.vs[c.j+1], u-d.us[0].pos, 1
	default:
		st, along, side = &d.us[c.i], v-d.vs[0].pos, 0
	}
	num := 2*(int(max(along, 0)/12)+1) - side
	base := st.name + strconv.Itoa(num)
	addr = "大连市中山区" + base + "号"
	if k := n.used[base]; k > 0 {
		addr = "大连市中山区" + base + "-" + strconv.Itoa(k) + "号"
	}
	n.used[base]++

	word := n.words[(b.k*31+c.i*17+c.j*13)%len(n.words)]
	switch b.use {
	case useResidential:
		n.inBlock[c]++
		name = fmt.Sprintf("%s%d号楼", c.compound, n.inBlock[c])
	case useOffice:
		name = word + "大厦"
	case useCommercial:
		name = word + [...]string{"商厦", "购物中心", "商场", "百货"}[(c.i+c.j+b.k)%4]
	case useMixed:
		name = word + "广场"
	case useSchool:
		n.perUse[b.schoolLvl]++
		name = fmt.Sprintf("中山区第%s%s", chineseNumber(n.perUse[b.schoolLvl]), b.schoolLvl)
	case useHospital:
		n.perUse[useHospital]++
		name = fmt.Sprintf("中山区%s医院", word)
		if n.perUse[useHospital]%3 == 1 {
			name = fmt.Sprintf("大连市第%s人民医院", chineseNumber((n.perUse[useHospital]+2)/3))
		}
	case useIndustrial:
		name = word + [...]string{"仓储中心", "港务仓库", "机械厂", "食品厂"}[(c.i+b.k)%4]
	}
	return name, addr
}

// chineseNumber writes 1–99 in Chinese numerals (十二, 二十三), larger
// numbers in digits.
func chineseNumber(k int) string {
	d := strings.Fields(chineseDigitList)
	switch {
	case k <= 0 || k >= 100:
		return strconv.Itoa(k)
	case k <= 10:
		return d[k-1]
	case k < 20:
		return "十" + d[k-11]
	case k%10 == 0:
		return d[k/10-1] + "十"
	}
	return d[k/10-1] + "十" + d[k%10-1]
}
