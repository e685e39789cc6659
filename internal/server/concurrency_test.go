package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	"connectrpc.com/connect"
)

// TestConcurrentPushesToOneLabel has 16 clients push 200 distinct commits
// to the same module and label at once. Every push must get its own commit
// (a clean, retryable unavailable is the only error allowed), and the
// label's history must list every commit exactly once, in one linear order
// that ends where the label points.
func TestConcurrentPushesToOneLabel(t *testing.T) {
	const (
		clientCount = 16
		pushCount   = 200
	)
	ctx := context.Background()
	e := newEnv(t)
	tok := e.user("alice")
	e.org("acme", "alice")
	c := e.client(tok)
	c.createModule(t, "acme", "busy", modulev1.ModuleVisibility_MODULE_VISIBILITY_PUBLIC)

	work := make(chan int)
	var mu sync.Mutex
	pushed := map[string]int{} // commit ID -> push number
	var retries int
	var wg sync.WaitGroup
	errs := make(chan error, pushCount)
	for range clientCount {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := e.client(tok)
			for n := range work {
				ct := content{owner: "acme", module: "busy", labels: []string{"dev"}, files: map[string]string{
					"busy/v1/busy.proto": fmt.Sprintf("syntax = \"proto3\";\npackage busy.v1;\n// push %d\nmessage Busy%d {}\n", n, n),
				}}
				for {
					commits, err := cl.push(ctx, nil, ct)
					if connect.CodeOf(err) == connect.CodeUnavailable {
						mu.Lock()
						retries++
						mu.Unlock()
						continue
					}
					if err != nil {
						errs <- fmt.Errorf("push %d: %w", n, err)
						break
					}
					mu.Lock()
					if prev, dup := pushed[commits[0].Id]; dup {
						errs <- fmt.Errorf("pushes %d and %d got the same commit %s", prev, n, commits[0].Id)
					}
					pushed[commits[0].Id] = n
					mu.Unlock()
					break
				}
			}
		}()
	}
	for n := range pushCount {
		work <- n
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(pushed) != pushCount {
		t.Fatalf("%d distinct commits for %d pushes", len(pushed), pushCount)
	}
	t.Logf("%d pushes, %d retries", pushCount, retries)

	// The history, oldest first, page by page.
	labelRef := &modulev1.LabelRef{Value: &modulev1.LabelRef_Name_{Name: &modulev1.LabelRef_Name{Owner: "acme", Module: "busy", Label: "dev"}}}
	var history []*modulev1.Commit
	token := ""
	for {
		resp, err := c.label.ListLabelHistory(ctx, connect.NewRequest(&modulev1.ListLabelHistoryRequest{
			LabelRef: labelRef, PageSize: 37, PageToken: token, Order: modulev1.ListLabelHistoryRequest_ORDER_ASC,
		}))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range resp.Msg.Values {
			history = append(history, v.Commit)
		}
		token = resp.Msg.NextPageToken
		if token == "" {
			break
		}
	}
	if len(history) != pushCount {
		t.Fatalf("label history has %d entries, want %d", len(history), pushCount)
	}
	seen := map[string]bool{}
	for i, h := range history {
		if _, ok := pushed[h.Id]; !ok || seen[h.Id] {
			t.Fatalf("history entry %d is commit %s: unknown or repeated", i, h.Id)
		}
		seen[h.Id] = true
		if i > 0 && h.CreateTime.AsTime().Before(history[i-1].CreateTime.AsTime()) {
			t.Errorf("history entry %d was created before entry %d", i, i-1)
		}
	}
	resp, err := c.label.GetLabels(ctx, connect.NewRequest(&modulev1.GetLabelsRequest{LabelRefs: []*modulev1.LabelRef{labelRef}}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resp.Msg.Labels[0].CommitId, history[len(history)-1].Id; got != want {
		t.Errorf("label points at %s, the history ends at %s", got, want)
	}
	// Labels given explicitly never move the default label.
	_, err = c.commit.GetCommits(ctx, connect.NewRequest(&modulev1.GetCommitsRequest{ResourceRefs: []*modulev1.ResourceRef{nameRef("acme", "busy", "")}}))
	wantCode(t, err, connect.CodeNotFound, "has no commits yet")
}
