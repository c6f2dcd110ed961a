"""Recording a person's workflow as readable steps (`screenagent record`)."""
