// A complete service on @stratus/core. Run it from the repo root:
//   SERVICE_NAME=orders PORT=8080 npx tsx packages/core/examples/orders-service.ts
// then: curl -s localhost:8080/health; curl -s -XPOST localhost:8080/orders -H 'content-type: application/json' -d '{"sku":"A-1","quantity":2}'

import {
  baseServiceSettings,
  createService,
  httpSettings,
  loadSettingsOrExit,
  ServiceError,
  secret,
} from '@stratus/core';
import { z } from 'zod';

// One settings object, parsed once; a bad value stops start-up with a list of what to fix.
const settings = loadSettingsOrExit(
  baseServiceSettings.extend({
    ...httpSettings.shape,
    SERVICE_NAME: z.string().default('orders'),
    PAYMENTS_API_KEY: secret(z.string()).optional(),
  }),
);

const orders = new Map<string, { sku: string; quantity: number }>();

const service = await createService({
  settings,
  readinessChecks: [{ name: 'order-store', check: () => orders.size < 10_000 }],
  routes: (app, { stats }) => {
    const created = stats.counter('orders_created');
    app.post(
      '/orders',
      { schema: { body: z.object({ sku: z.string().min(1), quantity: z.number().int().positive() }) } },
      async (request, reply) => {
        const id = `o-${orders.size + 1}`;
        orders.set(id, request.body);
        created.inc();
        request.log.info({ event: 'order_created', order_id: id }, 'order created');
        return reply.status(201).send({ id, ...request.body });
      },
    );
    app.get('/orders/:id', { schema: { params: z.object({ id: z.string() }) } }, async (request) => {
      const order = orders.get(request.params.id);
      if (!order) throw new ServiceError(404, 'order_not_found', `No order ${request.params.id}`);
      return order;
    });
  },
});
service.onShutdown('order-store', () => orders.clear());
await service.run();
