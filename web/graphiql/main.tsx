// The GraphQL IDE at /graphql: GraphiQL 5 on React 19, bundled by Vite (web/graphiql/vite.config.mts). The page the
// server writes has no inline script: its settings come in a JSON data block, which is read here.
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import './page.css';
import { GraphiQL } from 'graphiql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { dermagraphFetcher } from './fetcher';
import { webSocketUrl } from './operation';

/** What the server puts in <script type="application/json" id="graphiql-config"> (GraphiqlPageConfig). */
interface PageConfig {
  endpoint: string;
  subscriptionEndpoint: string;
  defaultQuery: string;
  defaultHeaders: string;
}

const config = JSON.parse(document.getElementById('graphiql-config')!.textContent!) as PageConfig;
const fetcher = dermagraphFetcher(
  new URL(config.endpoint, window.location.href).toString(),
  webSocketUrl(config.subscriptionEndpoint, window.location.href),
);

// A link like /graphql?query=...&variables=... opens with that operation in the editor.
const search = new URLSearchParams(window.location.search);

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <GraphiQL
      fetcher={fetcher}
      defaultQuery={config.defaultQuery}
      defaultHeaders={config.defaultHeaders}
      initialQuery={search.get('query') ?? undefined}
      initialVariables={search.get('variables') ?? undefined}
      isHeadersEditorEnabled
      // Headers hold bearer tokens: keep them out of localStorage.
      shouldPersistHeaders={false}
      defaultEditorToolsVisibility="headers"
    />
  </StrictMode>,
);
