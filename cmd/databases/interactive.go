package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/peterh/liner"
)

// historyFile is where the prompt keeps its history: $DATABASES_HISTORY, or
// .databases_history in the home directory ("" when there is none).
func historyFile() string {
	if f := os.Getenv("DATABASES_HISTORY"); f != "" {
		return f
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".databases_history")
}

// interactive reads statements at a prompt with line editing and history
// (github.com/peterh/liner), and runs each as soon as its ';' is typed. An
// error is printed and the session goes on; \q or Ctrl-D ends it, Ctrl-C
// drops the statement being typed, or cancels the one running.
func (s *session) interactive(ctx context.Context, stdout, stderr io.Writer) int {
	ln := liner.NewLiner()
	defer ln.Close()
	ln.SetCtrlCAborts(true)
	hist := historyFile()
	if f, err := os.Open(hist); err == nil {
		ln.ReadHistory(f)
		f.Close()
	}
	fmt.Fprintf(stdout, "databases: %s (%s). \\? for help, \\q to quit.\n", s.url, s.dialect)
	f := &feeder{s: s, next: 1, perStatement: true}
	for {
		prompt := s.dialect.String() + "=> "
		if f.pending() {
			prompt = s.dialect.String() + "-> "
		}
		line, err := ln.Prompt(prompt)
		if errors.Is(err, liner.ErrPromptAborted) {
			f.reset()
			continue
		}
		if errors.Is(err, io.EOF) {
			fmt.Fprintln(stdout)
			break
		}
		if err != nil {
			fmt.Fprintln(stderr, errorLine(err))
			return exitError
		}
		runCtx, stop := signal.NotifyContext(ctx, os.Interrupt)
		err = f.add(runCtx, line)
		stop()
		if h := f.history(); h != "" {
			ln.AppendHistory(h)
		}
		if errors.Is(err, errQuit) {
			break
		}
		if err != nil {
			fmt.Fprintln(stderr, errorLine(err))
			f.reset()
		}
	}
	if hist != "" {
		if out, err := os.OpenFile(hist, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err == nil {
			ln.WriteHistory(out)
			out.Close()
		}
	}
	return exitOK
}
