package fakeclerk

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// userWrites is what the Backend API's user writes changed: users created
// with POST /v1/users and ids deleted with DELETE /v1/users/{user_id}.
// GET /v1/users keeps listing its generated users: the writes exist for
// tests of what clerk-mcp sends, not to model a database.
type userWrites struct {
	created map[string]User
	deleted map[string]bool
	seq     int
}

// maxUserBody bounds a create request's body.
const maxUserBody = 1 << 20

// createUser answers POST /v1/users (CreateUser) with the new User: the
// first of email_address becomes the primary address, first_name and
// last_name the name. A body that is not a JSON object is a 422, as
// Clerk answers a malformed form.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	if !s.BackendAuth(w, r) {
		return
	}
	var in struct {
		FirstName    string   `json:"first_name"`
		LastName     string   `json:"last_name"`
		EmailAddress []string `json:"email_address"`
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxUserBody))
	if err != nil || json.Unmarshal(data, &in) != nil {
		clerkError(w, http.StatusUnprocessableEntity, "form_param_format_invalid", "The request body is not a valid JSON object")
		return
	}
	s.mu.Lock()
	s.users.seq++
	u := User{ID: fmt.Sprintf("user_2new%04d", s.users.seq), Name: strings.TrimSpace(in.FirstName + " " + in.LastName)}
	if len(in.EmailAddress) > 0 {
		u.Email = in.EmailAddress[0]
	}
	if s.users.created == nil {
		s.users.created = map[string]User{}
	}
	s.users.created[u.ID] = u
	s.counts.CreatedUsers++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, userJSON(u, time.Now()))
}

// deleteUser answers DELETE /v1/users/{user_id} (DeleteUser) with
// Clerk's DeletedObject, or 404 for an id that is not a user (never
// listed, never created, or deleted already).
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	if !s.BackendAuth(w, r) {
		return
	}
	id := r.PathValue("user_id")
	s.mu.Lock()
	_, created := s.users.created[id]
	exists := (created || isListedUser(id)) && !s.users.deleted[id]
	if exists {
		if s.users.deleted == nil {
			s.users.deleted = map[string]bool{}
		}
		s.users.deleted[id] = true
		delete(s.users.created, id)
		s.counts.DeletedUsers++
	}
	s.mu.Unlock()
	if !exists {
		clerkError(w, http.StatusNotFound, "resource_not_found", "User not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "user", "id": id, "deleted": true})
}

// isListedUser reports whether id is one of GET /v1/users' users.
func isListedUser(id string) bool {
	if id == DefaultUser.ID {
		return true
	}
	var i int
	if _, err := fmt.Sscanf(id, "user_2gen%04d", &i); err != nil || i <= 0 || i >= UserCount {
		return false
	}
	return ListedUser(i).ID == id
}
