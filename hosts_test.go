package databases

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

// TestHostListNoneAnswers: with every host of a list refusing, the error
// names each host, in the order tried, with its reason and the target the
// list was asked for; the dial errors stay reachable with errors.Is and
// errors.As; the password never shows. Closed loopback ports stand in for
// dead servers, so no server is needed.
func TestHostListNoneAnswers(t *testing.T) {
	const password = "s3cr3t-hosts"
	for _, tt := range []struct {
		scheme, opts string
		target       string
	}{
		{"postgres", "sslmode=disable&connect_timeout=5", ""},
		{"postgres", "sslmode=disable&connect_timeout=5&target_session_attrs=read-write", "read-write"},
		{"mysql", "connect_timeout=5", ""},
		{"mysql", "connect_timeout=5&target_session_attrs=read-only", "read-only"},
	} {
		t.Run(tt.scheme+"/"+tt.target, func(t *testing.T) {
			ports := closedPorts(t, 2)
			a, b := ports[0], ports[1]
			db, err := Open(tt.scheme + "://app:" + password + "@" + a + "," + b + "/db?" + tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.Ping()
			if err == nil {
				t.Fatal("connected with every host closed")
			}
			msg := err.Error()
			if strings.Contains(msg, password) {
				t.Errorf("the error shows the password: %s", msg)
			}
			ia, ib := strings.Index(msg, a+": "), strings.Index(msg, b+": ")
			if ia < 0 || ib < ia {
				t.Errorf("error %q does not name %s then %s", msg, a, b)
			}
			if want := "target_session_attrs=" + tt.target; tt.target != "" && !strings.Contains(msg, want) {
				t.Errorf("error %q does not name %s", msg, want)
			}
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("errors.Is(err, ECONNREFUSED) = false for %v", err)
			}
			var he *hostsError
			if !errors.As(err, &he) || len(he.tried) != 2 {
				t.Errorf("errors.As(err, *hostsError) found %v; want the two hosts tried", he)
			}
		})
	}
}
