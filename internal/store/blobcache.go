package store

import (
	"container/list"
	"context"
	"sync"
)

// NewBlobCache wraps blobs with an in-memory cache of recently read blobs,
// up to budget bytes, least recently used out first. Get answers from the
// cache when it can (those blobs were verified when first read); use the
// wrapped Blobs directly to re-verify stored data. Blobs over a quarter of
// the budget are not cached. Callers must not modify slices from Get.
func NewBlobCache(blobs Blobs, budget int64) Blobs {
	return &blobCache{Blobs: blobs, budget: budget, order: list.New(), items: map[[32]byte]*list.Element{}}
}

type blobCache struct {
	Blobs
	mu     sync.Mutex
	budget int64
	size   int64
	order  *list.List // of *cacheEntry, front = most recent
	items  map[[32]byte]*list.Element
}

type cacheEntry struct {
	sha  [32]byte
	data []byte
}

func (c *blobCache) Get(ctx context.Context, sha [32]byte) ([]byte, error) {
	c.mu.Lock()
	if el, ok := c.items[sha]; ok {
		c.order.MoveToFront(el)
		data := el.Value.(*cacheEntry).data
		c.mu.Unlock()
		return data, nil
	}
	c.mu.Unlock()
	data, err := c.Blobs.Get(ctx, sha)
	if err != nil {
		return nil, err
	}
	c.add(sha, data)
	return data, nil
}

func (c *blobCache) add(sha [32]byte, data []byte) {
	n := int64(len(data))
	if n > c.budget/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[sha]; ok {
		return
	}
	c.items[sha] = c.order.PushFront(&cacheEntry{sha: sha, data: data})
	c.size += n
	for c.size > c.budget {
		el := c.order.Back()
		e := el.Value.(*cacheEntry)
		c.order.Remove(el)
		delete(c.items, e.sha)
		c.size -= int64(len(e.data))
	}
}

func (c *blobCache) Delete(ctx context.Context, sha [32]byte) error {
	c.mu.Lock()
	if el, ok := c.items[sha]; ok {
		c.order.Remove(el)
		delete(c.items, sha)
		c.size -= int64(len(el.Value.(*cacheEntry).data))
	}
	c.mu.Unlock()
	return c.Blobs.Delete(ctx, sha)
}
