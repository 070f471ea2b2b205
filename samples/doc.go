// Package samples generates the Dalian sample city of CityTwin,
// deterministically from a seed, and synthetic cities for scale tests.
//
// The real data is shipped inside the package (see README.md for sources
// and licences): the OpenStreetMap land polygons of the Dalian area, the
// Natural Earth land polygons (for low zooms), the GB/T 2260 code table of
// Dalian's ten county-level divisions and the OpenStreetMap railway
// stations. From these it derives the sea (clip box minus land). On the
// land it generates a central district standing in for 中山区 (adcode
// 210202): a street lattice oriented along the coast, blocks, buildings
// with use, storeys, age and history, GB/T 30428 unit grids with 15-digit
// codes, and sensors. No administrative boundaries are invented: the
// divisions' codes are in the Metadata only.
//
// Generate streams features to a sink one at a time; Dalian collects them
// into a City; GenerateSynthetic streams any number of buildings spread
// over the land in constant memory. Nothing here has global mutable state:
// every call parses the embedded data afresh (a few milliseconds).
package samples

// Attribution must accompany maps and data derived from the sample city:
// the land, sea, stations and everything clipped to the land come from
// OpenStreetMap (ODbL 1.0); the low-zoom land is Natural Earth.
const Attribution = "© OpenStreetMap contributors, ODbL 1.0; Made with Natural Earth"
