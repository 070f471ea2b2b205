package gridmgmt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"citytwin/internal/httpx"
)

// maxBody bounds a request body.
const maxBody = 64 << 10

// Register adds the case routes under /api/v1 to mux:
//
//	POST /api/v1/cases                       take in a case (201)
//	GET  /api/v1/cases?grid=&status=&assignee=&overdue=true&limit=&cursor=
//	GET  /api/v1/cases/stats                 counts of all grids, and per grid
//	GET  /api/v1/cases/categories            the category table
//	GET  /api/v1/cases/{id}                  a case with its log
//	POST /api/v1/cases/{id}/transitions      {"to":…,"assignee":…,"note":…}
//	GET  /api/v1/grids/{grid}/stats          counts of one unit grid
//
// The caller is the auth.Principal in the request's context (none:
// authentication off, everything allowed).
func (s *Service) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/cases", s.handleCreate)
	mux.HandleFunc("GET /api/v1/cases", s.handleList)
	mux.HandleFunc("GET /api/v1/cases/stats", s.handleStats)
	mux.HandleFunc("GET /api/v1/cases/categories", s.handleCategories)
	mux.HandleFunc("GET /api/v1/cases/{id}", s.handleGet)
	mux.HandleFunc("POST /api/v1/cases/{id}/transitions", s.handleTransition)
	mux.HandleFunc("GET /api/v1/grids/{grid}/stats", s.handleGridStats)
}

// Run sweeps for overdue cases every interval (default one minute) until
// ctx ends, reporting failures to logErr (when set).
func (s *Service) Run(ctx context.Context, every time.Duration, logErr func(error)) {
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Sweep(ctx, s.opt.Now()); err != nil && logErr != nil {
				logErr(err)
			}
		}
	}
}

// fail writes an error with its status.
func fail(w http.ResponseWriter, err error) {
	var fe *FieldError
	var te *TransitionError
	switch {
	case errors.As(err, &fe):
		httpx.Error(w, http.StatusBadRequest, err.Error(), map[string]any{"field": fe.Field})
	case errors.As(err, &te):
		httpx.Error(w, http.StatusConflict, err.Error(), map[string]any{"status": te.From, "allowed": nonNil(te.Allowed)})
	case errors.Is(err, ErrOutside):
		httpx.Error(w, http.StatusBadRequest, err.Error(), map[string]any{"field": "lon,lat"})
	case errors.Is(err, ErrBadInput):
		httpx.Error(w, http.StatusBadRequest, err.Error(), nil)
	case errors.Is(err, ErrForbidden):
		httpx.Error(w, http.StatusForbidden, err.Error(), nil)
	case errors.Is(err, ErrNotFound):
		httpx.Error(w, http.StatusNotFound, err.Error(), nil)
	case httpx.TooLarge(err):
		httpx.Error(w, http.StatusRequestEntityTooLarge, err.Error(), nil)
	default:
		httpx.Error(w, http.StatusInternalServerError, err.Error(), nil)
	}
}

func nonNil(s []Status) []Status {
	if s == nil {
		return []Status{}
	}
	return s
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
}

func (s *Service) handleCreate(w http.ResponseWriter, r *http.Request) {
	b, err := readBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	n, err := ParseNewCase(b)
	if err != nil {
		fail(w, err)
		return
	}
	c, err := s.Create(r.Context(), n)
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Location", "/api/v1/cases/"+c.ID)
	httpx.WriteJSON(w, http.StatusCreated, c)
}

func (s *Service) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := Filter{Grid: q.Get("grid"), Status: Status(q.Get("status")), Assignee: q.Get("assignee"), Cursor: q.Get("cursor")}
	if f.Status != "" && !f.Status.valid() {
		fail(w, fieldErr("status", "%q: want one of %v", f.Status, Statuses))
		return
	}
	if v := q.Get("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fail(w, fieldErr("overdue", "%q: want true or false", v))
			return
		}
		f.Overdue = b
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			fail(w, fieldErr("limit", "%q: want 1–1000", v))
			return
		}
		f.Limit = n
	}
	cases, next := s.List(f)
	out := map[string]any{"cases": cases}
	if next != "" {
		out["next"] = next
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) handleGet(w http.ResponseWriter, r *http.Request) {
	c, err := s.Get(r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c)
}

func (s *Service) handleTransition(w http.ResponseWriter, r *http.Request) {
	b, err := readBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	req, err := ParseTransition(b)
	if err != nil {
		fail(w, err)
		return
	}
	c, err := s.Transition(r.Context(), r.PathValue("id"), req)
	if err != nil {
		fail(w, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c)
}

func (s *Service) handleStats(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, s.Stats(""))
}

func (s *Service) handleGridStats(w http.ResponseWriter, r *http.Request) {
	g := r.PathValue("grid")
	if !s.KnownGrid(g) {
		fail(w, fmt.Errorf("unit grid %q: %w", g, ErrNotFound))
		return
	}
	st := s.Stats(g)
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"grid": g, "stats": st})
}

func (s *Service) handleCategories(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"categories": Categories, "deadlines": deadlinesJSON(s.dl)})
}

// deadlinesJSON writes durations as Go duration strings ("30m0s").
func deadlinesJSON(d Deadlines) map[string]string {
	return map[string]string{
		"register": d.Register.String(), "dispatch": d.Dispatch.String(), "handle": d.Handle.String(),
		"handle_urgent": d.HandleUrgent.String(), "verify": d.Verify.String(), "close": d.Close.String(),
	}
}
