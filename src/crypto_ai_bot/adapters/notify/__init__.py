"""Notifications: Telegram and a generic webhook, each behind its own bounded outbox.

The bootstrap subscribes `service.Notifiers.handle` to the events it reports (a non-safety
handler that only enqueues), starts the workers with the container and drains them on close.
"""
