package gateway

// The generated API types (openapi.gen.go) mark optional fields with
// pointers; these two helpers move values in and out of them.

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// deref returns *p, or T's zero value when p is nil.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// ptrOrNil is ptr for optional fields: nil when v is T's zero value.
func ptrOrNil[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}
