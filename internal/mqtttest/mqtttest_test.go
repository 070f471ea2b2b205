package mqtttest

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// connect connects an MQTT client to url and disconnects it when t ends.
func connect(t *testing.T, url, id string, clean bool) mqtt.Client {
	t.Helper()
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(clean).
		SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s to %s: %v", id, url, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c
}

func TestStartPublishSubscribe(t *testing.T) {
	b := Start(t)
	if !strings.HasPrefix(b.URL(), "tcp://127.0.0.1:") || b.Port() == 0 {
		t.Fatalf("URL %q, port %d", b.URL(), b.Port())
	}
	got := make(chan string, 1)
	sub := connect(t, b.URL(), "sub", true)
	if tok := sub.Subscribe("a/#", 1, func(_ mqtt.Client, m mqtt.Message) { got <- string(m.Payload()) }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	pub := connect(t, b.URL(), "pub", true)
	if tok := pub.Publish("a/b", 1, false, "hello"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	select {
	case p := <-got:
		if p != "hello" {
			t.Fatalf("got %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("message not delivered")
	}
	if log := b.Log(); !strings.Contains(log, "running") {
		t.Errorf("log lacks the start-up line:\n%s", log)
	}
}

func TestStopRestart(t *testing.T) {
	b := Start(t)
	port := b.Port()
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", b.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("stopped broker still accepts connections")
	}
	if err := b.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	if b.Port() != port {
		t.Fatalf("port changed from %d to %d", port, b.Port())
	}
	connect(t, b.URL(), "after-restart", true)
	// Restart of a running broker.
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	connect(t, b.URL(), "after-second-restart", true)
}

// TestPersistence checks that with persistence a session and its queued
// QoS 1 messages survive a restart, and that without it they do not.
func TestPersistence(t *testing.T) {
	for _, persist := range []bool{false, true} {
		t.Run(map[bool]string{false: "off", true: "on"}[persist], func(t *testing.T) {
			b := StartConfig(t, Config{Persistence: persist})
			sub := connect(t, b.URL(), "durable", false)
			if tok := sub.Subscribe("q", 1, nil); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				t.Fatal(tok.Error())
			}
			sub.Disconnect(100)
			pub := connect(t, b.URL(), "pub", true)
			if tok := pub.Publish("q", 1, false, "queued"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				t.Fatal(tok.Error())
			}
			pub.Disconnect(100)
			if err := b.Restart(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(b.dir, "mosquitto.db")); (err == nil) != persist {
				t.Errorf("persistence %v: stat mosquitto.db: %v", persist, err)
			}
			got := make(chan string, 1)
			o := mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("durable").SetCleanSession(false).
				SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) { got <- string(m.Payload()) })
			c := mqtt.NewClient(o)
			if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				t.Fatal(tok.Error())
			}
			defer c.Disconnect(0)
			select {
			case p := <-got:
				if !persist || p != "queued" {
					t.Fatalf("persistence %v: got %q", persist, p)
				}
			case <-time.After(500 * time.Millisecond):
				if persist {
					t.Fatal("queued message lost across a restart with persistence")
				}
			}
		})
	}
}

func TestProxyCut(t *testing.T) {
	b := Start(t)
	p := NewProxy(t, b.Addr())
	lost := make(chan error, 1)
	o := mqtt.NewClientOptions().AddBroker(p.URL()).SetClientID("c").SetAutoReconnect(false).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { lost <- err })
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(0)
	p.Cut()
	select {
	case <-lost:
	case <-time.After(5 * time.Second):
		t.Fatal("connection not lost after Cut")
	}
	c2 := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(p.URL()).SetClientID("c2").SetConnectTimeout(time.Second))
	if tok := c2.Connect(); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
		t.Fatal("connected through a cut proxy")
	}
	p.Resume()
	connect(t, p.URL(), "c3", true)
}
