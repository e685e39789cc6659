package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/store"
)

type userKey struct{}

// userFrom returns the authenticated user, or nil for an anonymous request.
func userFrom(ctx context.Context) *store.Owner {
	u, _ := ctx.Value(userKey{}).(*store.Owner)
	return u
}

// authInterceptor authenticates `Authorization: Bearer <token>` and records
// the outcome for the request log. A request without the header is
// anonymous; one with a bad header or an unknown token is refused.
func (s *Server) authInterceptor() connect.UnaryInterceptorFunc {
	return func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			ri := infoFrom(ctx)
			resp, err := func() (connect.AnyResponse, error) {
				header := req.Header().Get("Authorization")
				if header == "" {
					return next(ctx, req)
				}
				user, err := s.authenticate(ctx, header)
				if err != nil {
					return nil, err
				}
				if ri != nil {
					ri.mu.Lock()
					ri.user = user.Name
					ri.mu.Unlock()
				}
				return next(context.WithValue(ctx, userKey{}, &user), req)
			}()
			if ri != nil {
				code := "ok"
				switch {
				case err == nil:
				case ctx.Err() != nil && connect.CodeOf(err) == connect.CodeUnknown:
					// The client went away (or its deadline passed): not a
					// server fault.
					code = connect.CodeCanceled.String()
					if errors.Is(ctx.Err(), context.DeadlineExceeded) {
						code = connect.CodeDeadlineExceeded.String()
					}
				default:
					code = connect.CodeOf(err).String()
				}
				ri.mu.Lock()
				ri.code = code
				ri.mu.Unlock()
			}
			return resp, err
		}
	}
}

func (s *Server) authenticate(ctx context.Context, header string) (store.Owner, error) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return store.Owner{}, connect.NewError(connect.CodeUnauthenticated,
			errors.New(`the Authorization header must be "Bearer <token>"`))
	}
	user, err := s.store.UserByTokenHash(ctx, store.HashToken(strings.TrimSpace(token)))
	if errors.Is(err, store.ErrNotFound) {
		return store.Owner{}, connect.NewError(connect.CodeUnauthenticated,
			errors.New("the token is not valid for this registry; ask an administrator for a new one"))
	}
	if err != nil {
		return store.Owner{}, s.internal(ctx, "authenticate", err)
	}
	return user, nil
}

// canRead reports whether the caller may see module m: public modules are
// visible to everyone, private ones to their owner's members.
func (s *Server) canRead(ctx context.Context, m store.Module) (bool, error) {
	if m.Visibility == store.VisibilityPublic {
		return true, nil
	}
	u := userFrom(ctx)
	if u == nil {
		return false, nil
	}
	return s.store.IsMember(ctx, m.OwnerID, u.ID)
}

// requireUser returns the caller or an unauthenticated error naming the action.
func requireUser(ctx context.Context, action string) (*store.Owner, error) {
	u := userFrom(ctx)
	if u == nil {
		return nil, connect.NewError(connect.CodeUnauthenticated,
			fmt.Errorf("%s requires authentication: send a token in the Authorization header (for the buf CLI, set BUF_TOKEN or run buf registry login)", action))
	}
	return u, nil
}

// checkWrite fails unless the caller is a member of ownerID. The owner
// itself must already be visible to the caller.
func (s *Server) checkWrite(ctx context.Context, ownerID, ownerName, action string) error {
	u, err := requireUser(ctx, action)
	if err != nil {
		return err
	}
	ok, err := s.store.IsMember(ctx, ownerID, u.ID)
	if err != nil {
		return s.internal(ctx, "check membership", err)
	}
	if !ok {
		return connect.NewError(connect.CodePermissionDenied,
			fmt.Errorf("%s: user %s is not a member of %s", action, u.Name, ownerName))
	}
	return nil
}
