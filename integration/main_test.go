package integration

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/go-databases/databases/internal/dbtest"
)

// TestMain ends the run with a line naming the backends it skipped, so that
// a run without the server URLs does not pass looking complete.
func TestMain(m *testing.M) {
	code := m.Run()
	if s := skipSummary(); s != "" {
		fmt.Println(s)
	}
	os.Exit(code)
}

// skipSummary names the backends whose tests were skipped, or is "" when
// every server is configured.
func skipSummary() string {
	missing := dbtest.Unconfigured()
	if len(missing) == 0 {
		return ""
	}
	return "integration: skipped " + strings.Join(missing, ", ") + "; see CONTRIBUTING.md, \"The test loop\""
}

func TestSkipSummary(t *testing.T) {
	tests := []struct {
		postgres, mysql string
		want            string
	}{
		{"postgres://x", "mysql://x", ""},
		{"", "mysql://x", "integration: skipped postgres (DATABASES_TEST_POSTGRES_URL is not set); see CONTRIBUTING.md, \"The test loop\""},
		{"", "", "integration: skipped postgres (DATABASES_TEST_POSTGRES_URL is not set), mysql (DATABASES_TEST_MYSQL_URL is not set); see CONTRIBUTING.md, \"The test loop\""},
	}
	for _, tt := range tests {
		t.Setenv("DATABASES_TEST_POSTGRES_URL", tt.postgres)
		t.Setenv("DATABASES_TEST_MYSQL_URL", tt.mysql)
		if got := skipSummary(); got != tt.want {
			t.Errorf("postgres %q, mysql %q: %q; want %q", tt.postgres, tt.mysql, got, tt.want)
		}
	}
}
