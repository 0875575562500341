"""Launchers: local worker processes, Cloud TPU VMs, Kubernetes."""
