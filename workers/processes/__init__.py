"""Long-running processes: the stream worker (its Faust app, wiring, web views, lag and policy
watchers) and the platform connectors. Each runs until stopped and is deployed on its own."""
