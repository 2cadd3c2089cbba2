DROP TABLE IF EXISTS user_achievements, achievements, points_ledger, player_counters, reviews,
    order_status_history, orders, proposals, requests, users, categories, regions CASCADE;
