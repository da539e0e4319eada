package dbtest

import (
	"testing"
)

func TestClustersDecision(t *testing.T) {
	tests := []struct {
		clusters, ci string
		want         decision
	}{
		{"", "", skipClusters},
		{"0", "", skipClusters},
		{"1", "", runClusters},
		{"yes", "", skipClusters}, // only 1 runs them
		{"", "true", failClusters},
		{"0", "true", skipClusters},
		{"1", "true", runClusters},
		{"", "false", skipClusters},
	}
	for _, tt := range tests {
		if got := clustersDecision(tt.clusters, tt.ci); got != tt.want {
			t.Errorf("DATABASES_TEST_CLUSTERS=%q CI=%q: %d; want %d", tt.clusters, tt.ci, got, tt.want)
		}
	}
}

// named is a testing.TB whose Name is fixed, for skips.add.
type named struct {
	testing.TB
	name string
}

func (n named) Name() string { return n.name }

func TestSkipSummary(t *testing.T) {
	tests := []struct {
		name  string
		skips [][2]string // reason, test name
		want  string
	}{
		{name: "nothing skipped", want: ""},
		{name: "subtests count once",
			skips: [][2]string{{clustersSkip, "TestA/postgres"}, {clustersSkip, "TestA/mariadb"}, {clustersSkip, "TestB"}},
			want:  "pkg: skipped 2 tests that start their own servers (DATABASES_TEST_CLUSTERS=1 runs them); see docs/testing.md"},
		{name: "backends and clusters, in the order first seen",
			skips: [][2]string{{"postgres (DATABASES_TEST_POSTGRES_URL is not set)", "TestX/postgres"}, {clustersSkip, "TestY"},
				{"postgres (DATABASES_TEST_POSTGRES_URL is not set)", "TestZ/postgres"}},
			want: "pkg: skipped 2 tests on postgres (DATABASES_TEST_POSTGRES_URL is not set); 1 test that starts its own servers (DATABASES_TEST_CLUSTERS=1 runs them); see docs/testing.md"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s skips
			for _, sk := range tt.skips {
				s.add(sk[0], named{t, sk[1]})
			}
			if got := s.summary("pkg"); got != tt.want {
				t.Errorf("summary:\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}
