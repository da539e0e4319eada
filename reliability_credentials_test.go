package databases

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-databases/databases/middleware"
)

// TestReliabilityCredentialsRotation rotates credentials under load, as
// Vault's database secrets engine does: the provider hands out one of three
// users at a time and moves to the next every 300 ms, after giving that
// user a new password on the server, so a user's password changes while
// connections of it are open, two rotations after it was last handed out.
// Eight goroutines query for 2 s (1 s with -short) through a pool whose
// connections live 20 ms, so that new connections open all the time; one
// connection opened before the first rotation is held to the end. No query
// may fail, every user must have served queries, the held connection must
// still work, and the provider must have been asked once per connection
// opened, never for one already open.
func TestReliabilityCredentialsRotation(t *testing.T) {
	t.Parallel()
	forEachCredsServer(t, func(t *testing.T, s *credsServer) {
		users := []string{credsUser + "_1", credsUser + "_2", credsUser + "_3"}
		for _, u := range users {
			s.addUser(t, u, "start")
		}
		var (
			mu      sync.Mutex
			current = 0
			pw      = map[string]string{}
			asked   atomic.Int64
		)
		for _, u := range users {
			pw[u] = "start"
		}
		provider := func(_ context.Context, server string) (string, string, error) {
			asked.Add(1)
			mu.Lock()
			defer mu.Unlock()
			u := users[current]
			return u, pw[u], nil
		}
		var opened atomic.Int64
		db, err := Open(s.url(""), WithCredentials(provider), WithMiddleware(openCounter(&opened)))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(4)
		db.SetConnMaxLifetime(20 * time.Millisecond)
		ctx := context.Background()
		held, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()

		run := 2 * time.Second
		if testing.Short() {
			run = time.Second
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var queries atomic.Int64
		served := make([]map[string]int, 8)
		errs := make(chan error, 8)
		for g := range served {
			served[g] = map[string]int{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					var user string
					if err := db.QueryRowContext(ctx, "SELECT CURRENT_USER").Scan(&user); err != nil {
						errs <- err
						return
					}
					user, _, _ = strings.Cut(user, "@")
					served[g][user]++
					queries.Add(1)
				}
			}()
		}
		rotations := 0
		for deadline := time.Now().Add(run); time.Now().Before(deadline); rotations++ {
			time.Sleep(300 * time.Millisecond)
			mu.Lock()
			next := users[(current+1)%len(users)]
			mu.Unlock()
			// The next user was last handed out two rotations ago.
			newPW := fmt.Sprintf("pw%d", rotations)
			s.setPassword(t, next, newPW)
			mu.Lock()
			current = (current + 1) % len(users)
			pw[next] = newPW
			mu.Unlock()
		}
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("a query failed during the rotations: %v", err)
		}
		total := map[string]int{}
		for _, m := range served {
			for u, n := range m {
				total[u] += n
			}
		}
		for _, u := range users {
			if total[u] == 0 {
				t.Errorf("user %s served no query: %v", u, total)
			}
		}
		if err := held.PingContext(ctx); err != nil {
			t.Errorf("the connection opened before the rotations: %v", err)
		}
		// database/sql's opener goroutine may be opening a connection
		// that asked and is not yet counted: at most one per slot of the
		// pool.
		if a, o := asked.Load(), opened.Load(); a < o || a > o+8 {
			t.Errorf("the provider was asked %d times for %d connections opened", a, o)
		}
		t.Logf("%d rotations, %d queries, %d connections opened, served by %v", rotations, queries.Load(), opened.Load(), total)
	})
}

// openCounter counts the connections opened.
func openCounter(n *atomic.Int64) middleware.Middleware {
	return middleware.Func(func(ctx context.Context, call *middleware.Call, next middleware.Handler) error {
		err := next(ctx, call)
		if err == nil && call.Op == middleware.OpConnect {
			n.Add(1)
		}
		return err
	})
}
