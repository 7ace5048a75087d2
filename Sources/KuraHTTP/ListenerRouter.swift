package import Hummingbird
package import KuraAccess
package import KuraMirror
package import KuraRegistry
package import KuraScan

/// The routes one listener serves: health on all, then the APIs it lists (`/v2/` and the
/// token endpoint, the admin API), behind the listener's own and the shared middleware.
package enum ListenerRouter {
    /// What the routes of every listener share.
    package struct Components: Sendable {
        package var registry: Registry
        package var access: AccessControl?
        package var usage: UsageMeter?
        package var proxy: PullThroughCache?
        package var replicator: Replicator?
        package var observer: RequestObserver
        package var rateLimiter: RequestRateLimiter?
        package var webhooks: WebhookDispatcher?
        /// Image scanning (admin API results, manual scans, policies), when the server scans.
        package var scanning: ScanService?
        package var scanPolicy: ScanPullPolicy?
        /// `/readyz` reports storage `full` below this many free bytes.
        package var minimumFreeBytes: Int64 = HealthEndpoints.defaultMinimumFreeBytes
        /// The web console's routes (KuraDashboard, a layer above), on listeners serving `dashboard`.
        package var dashboard: (any ListenerRoutes)? = nil

        package init(
            registry: Registry, access: AccessControl?, usage: UsageMeter?, proxy: PullThroughCache?, replicator: Replicator?,
            observer: RequestObserver, rateLimiter: RequestRateLimiter?, webhooks: WebhookDispatcher?
        ) {
            self.registry = registry
            self.access = access
            self.usage = usage
            self.proxy = proxy
            self.replicator = replicator
            self.observer = observer
            self.rateLimiter = rateLimiter
            self.webhooks = webhooks
        }
    }

    package static func make(for listener: ListenerConfiguration, _ components: Components) -> Router<KuraRequestContext> {
        let router = Router(context: KuraRequestContext.self)
        router.middlewares.add(ListenerMiddleware(listener: listener))
        router.middlewares.add(UnroutedRequestMiddleware())
        router.middlewares.add(components.observer)
        HealthEndpoints(registry: components.registry, minimumFreeBytes: components.minimumFreeBytes).register(on: router)
        if listener.apis.contains(.v2) {
            RegistryAPI(
                registry: components.registry, access: components.access, anonymousPull: listener.anonymousPull,
                rateLimiter: components.rateLimiter, proxy: components.proxy
            ).register(on: router)
            if let access = components.access {
                TokenEndpoint(access: access, anonymousPull: listener.anonymousPull).register(on: router)
            }
        }
        if listener.apis.contains(.admin), let access = components.access {
            AdminAPI(
                admin: AccessAdmin(access: access, registry: components.registry), meter: components.usage, webhooks: components.webhooks,
                replicator: components.replicator, rateLimiter: components.rateLimiter, scanning: components.scanning,
                scanPolicy: components.scanPolicy
            ).register(on: router)
        }
        if listener.apis.contains(.dashboard), let dashboard = components.dashboard {
            dashboard.register(on: router, listener: listener)
        }
        return router
    }
}

/// Routes a layer above KuraHTTP adds to a listener (the console).
package protocol ListenerRoutes: Sendable {
    func register(on router: Router<KuraRequestContext>, listener: ListenerConfiguration)
}
