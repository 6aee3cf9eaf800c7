// Prints the OpenAPI document the server answers at /api/v1/openapi.json (for linters and client generators).
import { openApiDocument } from "@/server/http/routes";

process.stdout.write(JSON.stringify(openApiDocument(), null, 2) + "\n");
