package dsn

import (
	"strings"
	"testing"
)

// TestBoolOptions: every boolean option reads the same words, in any case,
// and refuses others with one message.
func TestBoolOptions(t *testing.T) {
	words := map[string]bool{
		"true": true, "on": true, "yes": true, "1": true, "TRUE": true, "On": true, "YES": true,
		"false": false, "off": false, "no": false, "0": false, "False": false, "OFF": false, "No": false,
	}
	for _, tc := range []struct {
		option string
		url    string // the option is appended
		get    func(*Config) bool
	}{
		{"force_rollback", "postgres://h/db?", func(c *Config) bool { return c.ForceRollback }},
		{"trace", "postgres://h/db?", func(c *Config) bool { return c.Trace }},
		{"insights", "postgres://h/db?", func(c *Config) bool { return c.Insights }},
		{"sanitize", "postgres://h/db?", func(c *Config) bool { return !c.Literals }},
		{"ssl", "postgres://h/db?", func(c *Config) bool { return c.DSN == "postgres://h/db?sslmode=require" }},
		{"read_your_writes", "postgres://h/db?replicas=r1&", func(c *Config) bool { return c.Replicas.readYourWrites }},
		{"log", "postgres://h/db?", func(c *Config) bool { return c.LogLevel != nil }},
	} {
		for word, want := range words {
			cfg, err := Parse(tc.url + tc.option + "=" + word)
			if err != nil {
				t.Errorf("%s=%s: %v", tc.option, word, err)
				continue
			}
			if got := tc.get(cfg); got != want {
				t.Errorf("%s=%s reads as %v, want %v", tc.option, word, got, want)
			}
		}
		if _, err := Parse(tc.url + tc.option + "=maybe"); err == nil || !strings.Contains(err.Error(), `option `+tc.option+`: "maybe" is not`) {
			t.Errorf("%s=maybe: got %v", tc.option, err)
		}
	}
}
