package dsn

// The hosts of a URL, as the URL parser reads them: the list
// ("h1:3306,h2,[::1]:3307", a host without a port taking the dialect's)
// and the options that say how a connection picks one of them,
// load_balance_hosts, target_session_attrs and connect_timeout. Connecting
// through the list is hosts.go's.

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Server is a host and port of a URL: the one a connection reached.
type Server struct {
	Host string
	Port int // 0 when the URL gives none and the dialect's default is not known here
}

// String returns host:port, or the host alone without a port.
func (s Server) String() string {
	if s.Port == 0 {
		return s.Host
	}
	return net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

// HostPick is how a new connection picks a host: the URL options
// load_balance_hosts, target_session_attrs and connect_timeout.
type HostPick struct {
	Random  bool          // load_balance_hosts=random: a new random order for each connection
	Target  string        // target_session_attrs; "" is any
	Timeout time.Duration // connect_timeout: the bound of one host's attempt; 0 is none
}

// targetAttrs are the values of target_session_attrs, as libpq has them.
var targetAttrs = []string{"any", "read-write", "read-only", "primary", "standby", "prefer-standby"}

// setLoadBalance reads load_balance_hosts.
func setLoadBalance(p *urlParse, v string) error {
	switch v {
	case "disable":
		p.cfg.Pick.Random = false
	case "random":
		p.cfg.Pick.Random = true
	default:
		return fmt.Errorf("%q is not disable or random", v)
	}
	return nil
}

// setTargetAttrs reads target_session_attrs.
func setTargetAttrs(p *urlParse, v string) error {
	if !slices.Contains(targetAttrs, v) {
		return fmt.Errorf("%q is not %s or %s", v, strings.Join(targetAttrs[:len(targetAttrs)-1], ", "), targetAttrs[len(targetAttrs)-1])
	}
	p.cfg.Pick.Target = v
	if v == "any" {
		p.cfg.Pick.Target = ""
	}
	return nil
}

// setConnectTimeout reads connect_timeout, in whole seconds as libpq reads
// it; 0 is no bound.
func setConnectTimeout(p *urlParse, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || v[0] == '+' {
		return fmt.Errorf("%q is not a whole number of seconds >= 0", v)
	}
	p.cfg.Pick.Timeout = time.Duration(n) * time.Second
	return nil
}

// hostOptions are the URL options of this file, for the dialects that have
// no hosts to pick from.
var hostOptions = []string{"load_balance_hosts", "target_session_attrs", "connect_timeout"}

// refuseHostOptions is SQLite's answer to the options of this file.
func (p *urlParse) refuseHostOptions(why string) error {
	for _, name := range hostOptions {
		if key, ok := p.seen[name]; ok {
			return fmt.Errorf("option %s: %s", key, why)
		}
	}
	return nil
}

// passHostOptions gives pgx the options it reads itself for each host:
// target_session_attrs and connect_timeout.
func (p *urlParse) passHostOptions() {
	if _, ok := p.seen["target_session_attrs"]; ok {
		v := p.cfg.Pick.Target
		if v == "" {
			v = "any"
		}
		p.passthru = append(p.passthru, "target_session_attrs="+v)
	}
	if _, ok := p.seen["connect_timeout"]; ok {
		p.passthru = append(p.passthru, "connect_timeout="+strconv.Itoa(int(p.cfg.Pick.Timeout/time.Second)))
	}
}

// parseHosts reads the hosts of a URL, "h1:3306,h2,[::1]:3307", giving a
// host without a port defaultPort. Besides what splitHostPort refuses, a
// list may not have an empty host or the same host twice.
func parseHosts(hostPart string, defaultPort int) ([]Server, error) {
	parts := strings.Split(hostPart, ",")
	out := make([]Server, 0, len(parts))
	for i, h := range parts {
		if len(parts) > 1 && h == "" {
			return nil, fmt.Errorf("empty host %d of %d in the host list %q", i+1, len(parts), hostPart)
		}
		host, port, err := splitHostPort(h)
		if err != nil {
			return nil, err
		}
		if len(parts) > 1 && host == "" {
			return nil, fmt.Errorf("host %d of %d in the host list %q has a port but no name", i+1, len(parts), hostPart)
		}
		if port == 0 {
			port = defaultPort
		}
		s := Server{Host: host, Port: port}
		for _, prev := range out {
			if strings.EqualFold(prev.Host, host) && prev.Port == port {
				return nil, fmt.Errorf("host %s given twice in the host list %q", s, hostPart)
			}
		}
		out = append(out, s)
	}
	return out, nil
}
