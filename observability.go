package databases

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// setLog reads the log URL option.
func setLog(p *urlParse, v string) error {
	var l slog.Level
	switch strings.ToLower(v) {
	case "off", "false", "none":
		p.cfg.logLevel = nil
		return nil
	case "on", "true":
		l = slog.LevelInfo
	default:
		if err := l.UnmarshalText([]byte(v)); err != nil {
			return fmt.Errorf("%q is not debug, info, warn, error or off", v)
		}
	}
	p.cfg.logLevel = &l
	return nil
}

// setSlow reads the slow URL option; without log it turns logging on at
// warn, so that slow calls show.
func setSlow(p *urlParse, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is not a duration such as 200ms", v)
	}
	p.cfg.slow = d
	if p.cfg.logLevel == nil {
		if _, logGiven := p.seen["log"]; !logGiven {
			l := slog.LevelWarn
			p.cfg.logLevel = &l
		}
	}
	return nil
}

// setSanitize reads the sanitize URL option: off records query text with
// its literals in the logs and spans of the built-in middleware.
func setSanitize(p *urlParse, v string) error {
	switch strings.ToLower(v) {
	case "on", "true":
		p.cfg.literals = false
	case "off", "false":
		p.cfg.literals = true
	default:
		return fmt.Errorf("%q is not on or off", v)
	}
	return nil
}

func setTrace(p *urlParse, v string) error {
	b, err := strconv.ParseBool(strings.NewReplacer("on", "true", "off", "false").Replace(strings.ToLower(v)))
	if err != nil {
		return fmt.Errorf("%q is not on or off", v)
	}
	p.cfg.trace = b
	return nil
}
