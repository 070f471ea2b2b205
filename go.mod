module citytwin

go 1.26

require (
	github.com/golang/geo v0.0.0-20260818125358-b200a1149890 // indirect
	github.com/paulmach/orb v0.14.0 // indirect
	github.com/uber/h3-go/v4 v4.1.0 // indirect
)
