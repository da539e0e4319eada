package main

import (
	"strings"
	"testing"
)

// TestCLIMasksMalformedUserInfo runs the command with URLs whose password
// has an unescaped '/' or '?': the error it prints shows no part of it.
func TestCLIMasksMalformedUserInfo(t *testing.T) {
	for _, url := range []string{
		"postgres://app:Zx9/Qp2@db.internal:5432/shop",
		"mysql://app:Zx9?Qp2@db.internal/shop",
		"postgres://ap/Zx9:Qp2@db.internal/shop",
	} {
		code, _, stderr := runCLI(t, "", "-url", url, "SELECT 1")
		if code != exitError || !strings.Contains(stderr, "***@db.internal") {
			t.Errorf("%s: exit %d, stderr %q; want %d and the masked URL", url, code, stderr, exitError)
		}
		for _, part := range []string{"Zx9", "Qp2"} {
			if strings.Contains(stderr, part) {
				t.Errorf("%s: stderr %q shows %q", url, stderr, part)
			}
		}
	}
}
