DROP TABLE ticket_audit;
DROP TABLE ticket_attachments;
DROP TABLE ticket_replies;
DROP TABLE tickets;
