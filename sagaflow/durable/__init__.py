"""Durable building blocks skills import: activities, inputs and retry policies."""
