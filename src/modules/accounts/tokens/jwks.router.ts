import { Router } from 'express';
import type { JwtService } from './jwt';

/** GET /.well-known/jwks.json: the public keys that verify access tokens (several during a rotation). */
export function jwksRouter(jwt: JwtService): Router {
  const router = Router();
  router.get('/.well-known/jwks.json', (_req, res) => {
    res.set('cache-control', 'public, max-age=300');
    res.json(jwt.jwks());
  });
  return router;
}
