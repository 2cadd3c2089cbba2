DROP TABLE recorded_messages, delivery_attempts, deliveries, notifications, masters, push_tokens, preferences,
    settings, contacts;
