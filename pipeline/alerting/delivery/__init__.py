"""Delivering notifications: what an email or webhook action stores, the outbox, the courier
that sends what is due, the senders, and the retry policy."""
