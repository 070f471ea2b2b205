package samples

import (
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
)

// rngFor returns a generator for one purpose: the seed selects the city,
// the tag and numbers select an independent stream within it, so changing
// how one part is generated does not shift the random numbers of another.
func rngFor(seed uint64, tag string, ids ...int) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(tag))
	var b [8]byte
	for _, id := range ids {
		for k := range b {
			b[k] = byte(uint64(id) >> (8 * k))
		}
		h.Write(b[:])
	}
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// Name pools. Street names follow Dalian's custom of naming streets after
// other cities; all placements are generated, none is a real street's
// location.
const cityNameList = `
天津 上海 武汉 南京 长春 沈阳 北京 广州 杭州 成都
重庆 西安 兰州 昆明 贵阳 南宁 福州 厦门 青岛 济南
太原 郑州 合肥 南昌 长沙 西宁 银川 海口 苏州 无锡
宁波 温州 烟台 威海 丹东 鞍山 抚顺 本溪 锦州 营口
阜新 辽阳 铁岭 朝阳 盘锦 吉林 四平 延吉 通化 白山
珠海 深圳 汕头 湛江 桂林 柳州 洛阳 开封 徐州 扬州
镇江 常州 南通 泰州 嘉兴 湖州 绍兴 金华 台州 泉州
漳州 莆田 宜昌 襄阳 岳阳 衡阳 株洲 湘潭 九江 赣州
芜湖 蚌埠 安庆 淮南 秦皇岛 唐山 保定 邯郸 承德 张家口
大同 包头 赤峰 齐齐哈尔 牡丹江 佳木斯 大庆 绥化 黑河 松原
日照 潍坊 淄博 临沂 济宁 泰安 德州 聊城 滨州 东营
`

const placeWordList = `
海韵 星海 金港 滨海 华府 明珠 锦绣 翠竹 青云 东港
福佳 友谊 长江 中华 和平 胜利 延安 民主 桃源 春柳
枫林 松山 望海 观澜 碧海 蓝湾 港湾 白云 绿波 海景
金沙 银帆 凤鸣 龙湾 紫云 玉兰 丁香 槐花 樱桃 海棠
新港 春和 景明 瑞丰 嘉禾 永安 安康 富民 兴华 振兴
远洋 航运 渔港 灯塔 礁石 海鸥 云帆 彩虹 朝阳 晨光
东方 南山 北岭 西岗 秀月 清泉 鹿鸣 松涛 柏林 梧桐
`

const compoundSuffixList = `
小区 花园 家园 公寓 新村 苑 雅居 里
`

const chineseDigitList = `
一 二 三 四 五 六 七 八 九 十
`

// shuffled returns a seeded permutation of a space-separated pool, extended with numbered
// variants when more names than the pool holds are needed.
func shuffled(pool string, n int, rng *rand.Rand) []string {
	base := strings.Fields(pool)
	rng.Shuffle(len(base), func(i, j int) { base[i], base[j] = base[j], base[i] })
	out := make([]string, 0, n)
	for round := 0; len(out) < n; round++ {
		for _, s := range base {
			if len(out) == n {
				break
			}
			if round > 0 {
				s += ordinal(round + 1)
			}
			out = append(out, s)
		}
	}
	return out
}

func ordinal(k int) string {
	if d := strings.Fields(chineseDigitList); k >= 1 && k <= len(d) {
		return d[k-1]
	}
	return strconv.Itoa(k)
}
