package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"help"}, "commands:"},
		{[]string{"serve", "--help"}, "-live-ttl"},
		{[]string{"serve", "-h"}, "-ws-flush"},
		{[]string{"bench", "--help"}, "-tile38"},
		{[]string{"simulate", "vehicles", "--help"}, "-token"},
	} {
		var out, errs bytes.Buffer
		if code := run(tc.args, env{stdin: strings.NewReader(""), stdout: &out, stderr: &errs}); code != 0 {
			t.Errorf("%v: exit %d: %s", tc.args, code, errs.String())
		}
		if !strings.Contains(out.String(), tc.want) {
			t.Errorf("%v: output lacks %q:\n%s", tc.args, tc.want, out.String())
		}
	}
}
