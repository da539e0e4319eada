package integration

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// The repository ships no go.work and ignores a developer's own: a
// workspace joining this module would build the README's root commands with
// the newer versions this module requires, not those of the root go.mod
// that users of the library get.
func TestNoWorkspaceFile(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	git := func(args ...string) (string, error) {
		cmd := exec.Command("git", args...)
		cmd.Dir = ".."
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if out, err := git("rev-parse", "--show-toplevel"); err != nil {
		t.Skipf("not a git checkout: %s", out)
	}
	for _, name := range []string{"go.work", "go.work.sum"} {
		if out, err := git("ls-files", "--error-unmatch", name); err == nil {
			t.Errorf("%s is in the repository (%s); remove it", name, out)
		}
		_, err := git("check-ignore", "-q", "--no-index", name)
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit) && exit.ExitCode() == 1:
			t.Errorf("%s is not in .gitignore: a developer's own workspace could be committed", name)
		case err != nil:
			t.Errorf("git check-ignore %s: %v", name, err)
		}
	}
}
