-- Marketplace names the masters serving a new request in `request.created` (it owns the
-- directory, and an event on another topic could arrive after the request); the projection
-- of master.services_changed that was used to find them goes.
DROP TABLE masters;
