// Prints the OpenAPI document the server answers at /api/v1/openapi.json (for linters and client
// generators); with --types, writes the TypeScript types openapi-typescript makes of it to the
// file the typed-client test uses.
import { writeFileSync } from "node:fs";
import { openApiDocument } from "@/server/http/routes";
import {
  generateOpenApiTypes,
  TYPES_FILE,
} from "@/tests/helpers/openapi-client";

if (process.argv.includes("--types")) {
  writeFileSync(TYPES_FILE, await generateOpenApiTypes());
  process.stderr.write(`wrote ${TYPES_FILE}\n`);
} else {
  process.stdout.write(JSON.stringify(openApiDocument(), null, 2) + "\n");
}
