package server

import (
	"context"
	"errors"
	"fmt"

	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/store"
)

// internal turns an unexpected store error into a Connect error. Busy
// stores are retryable (unavailable); corrupt data is data_loss; anything
// else is logged and reported as internal without details.
func (s *Server) internal(ctx context.Context, op string, err error) error {
	var ce *connect.Error
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, err)
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, err)
	case errors.Is(err, store.ErrBusy):
		return connect.NewError(connect.CodeUnavailable, errors.New("the registry is busy; retry the request"))
	case errors.Is(err, store.ErrInvalid):
		return connect.NewError(connect.CodeInvalidArgument, err)
	case errors.Is(err, store.ErrCorrupt):
		s.log.ErrorContext(ctx, "stored data is corrupt", "op", op, "err", err)
		return connect.NewError(connect.CodeDataLoss, fmt.Errorf("%s: stored data failed verification; the administrator should run fsck", op))
	}
	s.log.ErrorContext(ctx, "internal error", "op", op, "err", err)
	return connect.NewError(connect.CodeInternal, fmt.Errorf("%s failed; see the server log", op))
}

func invalidArgf(format string, args ...any) error {
	return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf(format, args...))
}

func notFoundf(format string, args ...any) error {
	return connect.NewError(connect.CodeNotFound, fmt.Errorf(format, args...))
}
